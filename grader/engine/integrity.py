"""A static scan of answer files for code that could tamper with grading.

The homework needs none of these: importing the test framework or the
grader, reaching into ``sys.modules``, ``builtins`` or ``gc``, reading the
environment, starting processes, sending signals, ``ctypes``, raw sockets,
or touching files outside the project. Finding one is a *warning for the
instructor*, never a penalty: the grade comes from the tests alone, and the
instructor decides whether to look closer (``grader/SECURITY.md``). The scan
reads the source with ``ast`` and never runs it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.model.rubric import TESTS_DIR

# Modules whose import alone is worth a look (the top-level name).
MODULES: dict[str, str] = {
    "pytest": "the test framework",
    "_pytest": "the test framework's internals",
    "pluggy": "the test framework's plugin system",
    "grader": "the grader",
    "conftest": "the grading tests' fixtures",
    "gc": "the garbage collector (finds any live object)",
    "ctypes": "raw memory access",
    "subprocess": "starting processes",
    "multiprocessing": "starting processes",
    "signal": "signal handlers",
    "socket": "raw network sockets",
    "_socket": "raw network sockets",
    "builtins": "Python's built-in names",
    "inspect": "frame and source introspection",
    "shutil": "file operations",
    "pty": "terminals and processes",
    "resource": "process limits",
}

# Attribute uses (``module.name``) worth a look.
ATTRIBUTES: dict[tuple[str, str], str] = {
    **{
        ("sys", name): "the interpreter's internals"
        for name in (
            "modules",
            "_getframe",
            "settrace",
            "setprofile",
            "meta_path",
            "path_hooks",
            "excepthook",
            "addaudithook",
            "exit",
        )
    },
    **{("os", name): "environment variables" for name in ("environ", "getenv", "putenv")},
    **{
        ("os", name): "processes and signals"
        for name in (
            "fork",
            "forkpty",
            "kill",
            "killpg",
            "_exit",
            "abort",
            "system",
            "popen",
            "execv",
            "execve",
            "execvp",
            "execl",
            "execlp",
            "spawnv",
            "spawnl",
            "posix_spawn",
            "setsid",
        )
    },
    **{
        ("os", name): "files and descriptors"
        for name in (
            "remove",
            "unlink",
            "rmdir",
            "removedirs",
            "rename",
            "replace",
            "chmod",
            "chown",
            "write",
            "dup",
            "dup2",
            "open",
            "truncate",
            "symlink",
            "link",
        )
    },
}

# Calls of built-in names worth a look.
BUILTINS: dict[str, str] = {
    "exec": "runs code built at run time",
    "eval": "runs code built at run time",
    "compile": "builds code at run time",
    "__import__": "imports by name at run time",
    "exit": "ends the process",
    "quit": "ends the process",
}

# Dunder attributes that reach into other code's internals.
DUNDERS = {"__code__", "__globals__", "__subclasses__", "__builtins__", "__closure__"}


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: where, and what it is in a few words."""

    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.findings: list[Finding] = []
        self.aliases: dict[str, str] = {}  # local name -> module it stands for

    def add(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.file, getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0:
            self._module(node, module)
            top = module.split(".")[0]
            for alias in node.names:
                if (top, alias.name) in ATTRIBUTES:
                    self.add(node, f"imports {top}.{alias.name} ({ATTRIBUTES[(top, alias.name)]})")
        self.generic_visit(node)

    def _module(self, node: ast.AST, name: str) -> None:
        top = name.split(".")[0]
        if top in MODULES:
            self.add(node, f"imports {name} ({MODULES[top]})")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            module = self.aliases.get(node.value.id, node.value.id)
            if (module, node.attr) in ATTRIBUTES:
                self.add(node, f"uses {module}.{node.attr} ({ATTRIBUTES[(module, node.attr)]})")
        if node.attr in DUNDERS:
            self.add(node, f"uses {node.attr} (reaches into other code's internals)")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DUNDERS:
            self.add(node, f"uses {node.id} (reaches into other code's internals)")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in BUILTINS:
            self.add(node, f"calls {func.id}() ({BUILTINS[func.id]})")
        if _is_file_call(func) and node.args and _outside(node.args[0]):
            self.add(node, f"opens a file outside the project ({_literal(node.args[0])})")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and (
            node.value.startswith(("/proc", "/dev/fd")) or TESTS_DIR in node.value
        ):
            self.add(node, f"names {node.value[:60]!r} (the process's own files or the tests)")


def _is_file_call(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in {"open", "Path"}
    return isinstance(func, ast.Attribute) and func.attr in {"open", "Path", "write_text"}


def _outside(arg: ast.expr) -> bool:
    """A literal path that is absolute or climbs out with ``..``."""
    if isinstance(arg, ast.JoinedStr) and arg.values:
        arg = arg.values[0]
    if not isinstance(arg, ast.Constant) or not isinstance(arg.value, str):
        return False
    return arg.value.startswith(("/", "~")) or ".." in arg.value.split("/")


def _literal(arg: ast.expr) -> str:
    return ast.unparse(arg)[:60]


def scan_source(source: str, file: str) -> list[Finding]:
    """The findings in one answer file's source (a syntax error finds nothing)."""
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError):
        return []
    scanner = _Scanner(file)
    scanner.visit(tree)
    unique = {(f.line, f.what): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.what))


def scan_sources(files: Iterable[tuple[str, bytes]]) -> list[Finding]:
    """Scan ``(rubric path, content)`` pairs: the answer files of one part, as graded."""
    findings: list[Finding] = []
    for name, content in files:
        findings += scan_source(content.decode("utf-8", errors="replace"), name)
    return findings


def scan_files(files: Iterable[tuple[str, Path]]) -> list[Finding]:
    """Scan ``(rubric path, file on disk)`` pairs: the answer files of one part."""
    readable = []
    for name, path in files:
        try:
            readable.append((name, path.read_bytes()))
        except OSError:
            continue
    return scan_sources(readable)
