"""``python -m bench``: see ``bench.main`` for the options and exit status."""

from bench.main import main

raise SystemExit(main())
