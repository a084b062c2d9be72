"""What a stuck student reads: feedback wording and the hints for known traps.

Imported by the judge (each failing test's feedback) and the engine (a part that
did not finish), so it sits below both.
"""
