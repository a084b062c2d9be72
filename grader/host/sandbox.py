"""The OS sandbox every process that runs graded code starts in (bubblewrap, Linux).

Graded code is hostile input. A grading process runs inside ``bwrap`` with:

- new PID, network, IPC and UTS namespaces: no network at all (the host's
  Redis and PostgreSQL included), no other process in sight, and every
  process it starts dies with the part (the namespace's init is killed with
  the outer ``bwrap``, ``--die-with-parent``); a new session, no terminal;
- a read-only view of only what the interpreter needs (``/usr``, a few files
  of ``/etc``, the Python installation, the virtual environment and the
  grader package), the part's own workspace read-write (its grading tests and
  ``pytest.ini`` read-only), a private size-limited ``/tmp`` and
  ``/dev/shm``, a fresh ``/proc`` and a minimal ``/dev``; no home directory,
  no repository, no other workspace or submission;
- when the grader runs as root, an unprivileged uid (``setpriv``: no
  capabilities, no supplementary groups, ``no_new_privs``); otherwise a user
  namespace of the grader's own uid with every capability dropped.

Limits on the whole part (memory, task count) come from ``grader.host.containment``,
whose cgroups the outer ``bwrap`` joins before it starts (``wrap``).

``detect()`` says whether a sandbox can be made here, and why not: not Linux,
no ``bwrap``, user namespaces refused, ``$GRADER_SANDBOX=0``. The grader then
runs unsandboxed and says so (``grader batch`` refuses unless ``--unsandboxed``).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grader

ENV_SWITCH = "GRADER_SANDBOX"
UNPRIVILEGED_UID = 65534  # nobody: what graded code runs as when the grader is root
TMP_SIZE = 256 * 1024**2  # private /tmp (also HOME and TMPDIR inside)
SHM_SIZE = 64 * 1024**2
HOME = "/tmp"
# Files of /etc an interpreter may read (certificates, time zones, user names).
_ETC = (
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/mime.types",
)
# Merged-/usr systems have these as links into /usr; older ones as directories.
_TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Sandbox:
    """How to wrap a grading command in bubblewrap on this machine."""

    bwrap: str
    setpriv: str | None  # set when the grader is root: graded code drops to UNPRIVILEGED_UID
    readonly: tuple[str, ...]  # host paths shown read-only at the same place

    @property
    def uid(self) -> int | None:
        """The uid graded code runs as, when it differs from the grader's (root)."""
        return UNPRIVILEGED_UID if self.setpriv else None

    def wrap(
        self,
        command: Sequence[str],
        *,
        workspace: Path,
        protected: Iterable[str] = (),
        cgroups: Iterable[Path] = (),
        info_fd: int | None = None,
    ) -> list[str]:
        """``command`` run inside the sandbox, in ``workspace``.

        ``protected``: paths inside the workspace shown read-only (the grading
        tests). ``cgroups``: joined by the outer process (still the grader's
        uid) before ``bwrap`` starts, so everything in the sandbox is counted.
        """
        made = {"/tmp", "/dev", "/proc"}  # mounted by bubblewrap itself
        argv = [self.bwrap, *self._namespaces(), *self._filesystem(made)]
        if info_fd is not None:  # bubblewrap writes {"child-pid": N, ...} there
            argv[1:1] = ["--info-fd", str(info_fd)]
        where = str(workspace)
        argv += [*_traversable_parents(where, made), "--bind", where, where]
        for relative in protected:
            path = workspace / relative
            if path.exists():
                argv += ["--ro-bind", str(path), str(path)]
        argv += ["--chdir", str(workspace), "--setenv", "HOME", HOME, "--setenv", "TMPDIR", HOME]
        argv.append("--")
        if self.setpriv:
            argv += [
                self.setpriv,
                f"--reuid={UNPRIVILEGED_UID}",
                f"--regid={UNPRIVILEGED_UID}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        argv += list(command)
        joins = [Path(c) / "cgroup.procs" for c in cgroups]
        if not joins:
            return argv
        script = " && ".join(f"echo $$ > {shlex.quote(str(j))}" for j in joins)
        return ["/bin/sh", "-c", f'{script} && exec "$@"', "sh", *argv]

    @property
    def can_hold(self) -> bool:
        """Whether forked processes can enter a held sandbox (``grader.host.nsenter``: root)."""
        return self.setpriv is not None and os.geteuid() == 0

    def hold(self, *, workspace: Path, protected: Iterable[str] = ()) -> Holder:
        """A sandbox for ``workspace`` with a placeholder inside, for processes to enter.

        The placeholder waits as the unprivileged uid; ``Holder.pid`` is the
        sandbox's init as the host sees it (whose namespaces ``grader.host.nsenter``
        joins). Closing the holder kills the init, and with it every process
        in the sandbox.
        """
        read, write = os.pipe()
        # The placeholder waits for EOF on this pipe, whose other end only the grader
        # holds: if the grader dies, the sandbox ends with it.
        life_in, life_out = os.pipe()
        try:
            process = subprocess.Popen(
                self.wrap(
                    # "ready" once bubblewrap has set everything up (its info comes
                    # earlier, while it still mounts); then wait on stdin, the lifeline.
                    ["/bin/sh", "-c", "echo ready; read -r _"],
                    workspace=workspace,
                    protected=protected,
                    info_fd=write,
                ),
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},  # readable inside: no secret
                stdin=life_in,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write,),
                start_new_session=True,
            )
        except OSError:
            os.close(life_out)
            os.close(read)
            raise
        finally:
            os.close(write)
            os.close(life_in)
        info = _read_info(read)
        holder = Holder(process, lifeline=life_out)
        try:
            holder.pid = int(json.loads(info)["child-pid"])
            assert process.stdout is not None
            ready = _read_until(process.stdout.fileno(), b"ready\n")
            if not ready:
                raise ValueError("the placeholder never said it was ready")
        except (ValueError, KeyError, TypeError) as exc:
            holder.stop()  # its stderr says why, once it has ended
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            holder.close()
            raise OSError(f"bubblewrap did not start: {error.strip() or exc}") from exc
        return holder

    def _namespaces(self) -> list[str]:
        args = [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "grader",
            "--die-with-parent",
            "--new-session",
        ]
        if not self.setpriv:  # not root: the user namespace is what makes the rest possible
            args.insert(0, "--unshare-user")
        return args

    def _filesystem(self, made: set[str]) -> list[str]:
        # The private mounts first: a virtual environment may live under /tmp.
        args = ["--dev", "/dev", "--perms", "1777", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm"]
        args += ["--proc", "/proc", "--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
        args += ["--ro-bind", "/usr", "/usr"]
        for top in _TOP_LEVEL:
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for path in _ETC:
            args += ["--ro-bind-try", path, path]
        for path in self.readonly:
            args += [*_traversable_parents(path, made), "--ro-bind", path, path]
        return args


def _traversable_parents(path: str, made: set[str]) -> list[str]:
    """Make ``path``'s parents as empty 0755 directories before it is bound.

    Left to itself bubblewrap creates them with the host's modes, and a
    ``/root`` or a ``mkdtemp`` folder (0700) would shut the unprivileged uid out.
    """
    args = []
    for parent in reversed(Path(path).parents[:-1]):
        name = str(parent)
        if name not in made and name != "/usr" and not name.startswith("/usr/"):
            made.add(name)
            args += ["--perms", "0755", "--dir", name]
    return args


def _read_until(fd: int, wanted: bytes, timeout: float = 30.0) -> bool:
    """Read ``fd`` until ``wanted`` has arrived (True), or EOF or ``timeout`` (False)."""
    data = b""
    deadline = time.monotonic() + timeout
    while wanted not in data and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return False
        chunk = os.read(fd, 64)
        if not chunk:
            return False
        data += chunk
    return wanted in data


def _read_info(fd: int, timeout: float = 30.0) -> bytes:
    """bubblewrap's ``--info-fd`` JSON object: read until it parses (the descriptor may
    stay open in the sandbox, so EOF is not awaited), EOF, or ``timeout``."""
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
            try:
                json.loads(data)
                break
            except ValueError:
                continue
    finally:
        os.close(fd)
    return data


@dataclass
class Holder:
    """A running sandbox with nothing in it but a placeholder (``Sandbox.hold``)."""

    process: subprocess.Popen[bytes]
    lifeline: int = -1  # the grader's end of the placeholder's pipe
    pid: int = 0

    def stop(self) -> None:
        """Kill the sandbox: its init, and so every process inside."""
        if self.lifeline >= 0:
            with contextlib.suppress(OSError):
                os.close(self.lifeline)
            self.lifeline = -1
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        """Kill the sandbox (``stop``) and close the pipes from bubblewrap."""
        self.stop()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def why_not(box: Sandbox | str) -> str:
    """Why graded code runs without a sandbox (``detect()``'s answer); empty when it has one."""
    return "" if isinstance(box, Sandbox) else box


def runtime_paths() -> tuple[str, ...]:
    """What a grading interpreter reads: Python, the environment, the grader package.

    Only these directories, never their parents: an editable install keeps
    the grader in the repository, whose other files (the reference, the
    hidden tests) must stay out of sight.
    """
    candidates = [
        sys.base_prefix,
        sys.base_exec_prefix,
        sys.prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        os.path.dirname(os.path.abspath(grader.__file__)),
        # Package folders a .pth file added (another environment's, say); never the
        # working directory or a test folder that sys.path may also hold.
        *(p for p in sys.path if os.path.basename(p) in ("site-packages", "dist-packages")),
    ]
    chosen: list[str] = []
    for candidate in sorted({os.path.realpath(c) for c in candidates}, key=len):
        if candidate.startswith("/usr/") or candidate == "/usr":
            continue
        if any(candidate == c or candidate.startswith(c + "/") for c in chosen):
            continue
        if os.path.isdir(candidate):
            chosen.append(candidate)
    # A virtual environment's interpreter may be a link to the base one: show both.
    return tuple(chosen)


def detect() -> Sandbox | str:
    """A usable sandbox, or one line saying why none can be made here."""
    if os.environ.get(ENV_SWITCH, "1").strip().lower() in ("0", "off", "no", "false"):
        return f"turned off by ${ENV_SWITCH}=0"
    if not sys.platform.startswith("linux"):
        return f"no sandbox on {sys.platform} (bubblewrap needs Linux)"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    setpriv = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return "setpriv (util-linux) is missing: cannot drop root inside the sandbox"
    sandbox = Sandbox(bwrap=bwrap, setpriv=setpriv, readonly=runtime_paths())
    problem = _try(sandbox)
    return problem or sandbox


def _try(sandbox: Sandbox) -> str:
    """Start ``true`` in the sandbox; an empty string when it worked."""
    probe = Path(os.path.realpath(os.environ.get("TMPDIR", "/tmp")))
    command = sandbox.wrap(["/bin/true"], workspace=probe)
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap cannot start: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return f"bubblewrap cannot make a sandbox here ({detail[0]})"
    return ""
