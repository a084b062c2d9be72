"""Renderers: one pure function per format, all from the same ``GradeResult``.

Each module turns the one result object into one format and does nothing
else, so the terminal table, the JSON, the Markdown summary, the GitHub
Classroom result, Gradescope's ``results.json`` and JUnit XML can never
disagree about a score.
"""
