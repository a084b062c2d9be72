"""``python -m grader``: the same as the ``grader`` command."""

import sys

from grader.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
