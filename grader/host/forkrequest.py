"""What the grader asks the fork server (``grader.host.zygote``) for, typed once for both ends.

``grader.host.forkserver`` builds a ``ForkRequest`` and sends it as one JSON
message; the zygote reads it back with ``ForkRequest.from_json``, which checks
every field's type before the child is forked, so a malformed request is an
error on the status pipe and never a half-configured child. Only the standard
library is imported here: the zygote imports this before it preloads anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class RequestError(ValueError):
    """A fork request without the fields, or the types, a child needs."""


@dataclass(frozen=True)
class ForkRequest:
    """One child to fork: what to run, where, with which environment and limits.

    ``sandbox``: ``{"pid": the sandbox's init, "uid": the uid to run as}``, or
    None to stay outside. ``program``: ``pytest`` (``args`` are pytest's) or
    ``app`` (the app server). ``harness``: whether the child was given a
    harness descriptor.
    """

    args: list[str]
    env: dict[str, str]
    cwd: str
    memory: int
    file_size: int
    cgroups: list[str] = field(default_factory=list)
    nproc: int | None = None
    sandbox: dict[str, int] | None = None
    program: str = "pytest"
    harness: bool = False

    def to_json(self) -> bytes:
        """The message sent to the zygote."""
        return json.dumps(self.__dict__).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ForkRequest:
        """Check and read a request; ``RequestError`` says what is wrong with it."""
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise RequestError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise RequestError("not a JSON object")
        fields: dict[str, Any] = {name: raw.get(name) for name in cls.__dataclass_fields__}
        request = cls(**fields)
        request._check()
        return request

    def _check(self) -> None:
        text_list = isinstance(self.args, list) and all(isinstance(a, str) for a in self.args)
        env = isinstance(self.env, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()
        )
        groups = isinstance(self.cgroups, list) and all(isinstance(g, str) for g in self.cgroups)
        box = self.sandbox is None or (
            isinstance(self.sandbox, dict)
            and all(_is_int(self.sandbox.get(key)) for key in ("pid", "uid"))
        )
        checks = {
            "args": text_list,
            "env": env,
            "cwd": isinstance(self.cwd, str),
            "memory": _is_int(self.memory),
            "file_size": _is_int(self.file_size),
            "cgroups": groups,
            "nproc": self.nproc is None or _is_int(self.nproc),
            "sandbox": box,
            "program": self.program in ("pytest", "app"),
            "harness": isinstance(self.harness, bool),
        }
        wrong = [name for name, good in checks.items() if not good]
        if wrong:
            raise RequestError(f"malformed fields: {', '.join(wrong)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
