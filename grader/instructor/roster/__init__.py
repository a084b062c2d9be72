"""The instructor's view of a roster graded by ``grader batch``.

One job per module; the report is a pure function of the batch's results:

* ``records``: each submission's full result, kept beside the gradebook, and read back;
* ``stats``: distributions, test pass rates, submissions to look at (plain data);
* ``similarity``: pairs of submissions alike (copydetect), the reference included;
* ``plots``: histograms as inline SVG (matplotlib);
* ``html``: the self-contained ``report.html`` (Jinja2, autoescaped);
* ``report``: reads the batch's output, runs the above and writes the files.

Nothing here is imported by ``grader grade``: plotting and similarity need the
``report`` extra (``pip install -e '.[report]'``), which the students never install.
"""
