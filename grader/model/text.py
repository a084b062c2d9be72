"""Make text a submission controls safe to show: in a terminal, a CSV cell, a report.

Everything a submission can put in a grade (test messages, its folder name,
the lines of its answer files that a warning quotes) crosses from graded code
to the instructor's screen and files. ``clean`` runs on all of it once, where
the engine builds the result; ``csv_cell`` where the gradebook is written.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (ESC-less CSI/OSC in 8-bit form),
# and the bidirectional overrides and isolates that reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Cells a spreadsheet would run as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: str) -> str:
    """``text`` without control characters (all but newline and tab): no escape
    sequence (clipboard writes, links, titles, screen clears) reaches a terminal."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n"))


def csv_cell(text: str) -> str:
    """A cell no spreadsheet evaluates: a leading ``=``, ``+``, ``-``, ``@``, tab or CR
    is quoted with an apostrophe (the OWASP rule); control characters go."""
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return clean(text)
