"""Checks of the repository as a whole rather than of one behaviour: lint and types (ruff,
mypy), the import-linter contracts (the trust boundary and the grader's layers), every module
or object the grader names in a string resolves, and the GitHub workflows (schema,
structure, zizmor's offline audit).
"""
