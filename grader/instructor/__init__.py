"""The instructor's commands: verify, batch (and the roster report), release, Gradescope.

``grader release`` leaves this whole subpackage out of the student's copy, whose
``grader --help`` then lists only what works there.
"""
