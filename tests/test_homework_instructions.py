"""The students' guides stay true: the rubric's parts and points, the same commands in both.

INSTRUCTIONS.md (English) and INSTRUCTIONS.zh-TW.md (Traditional Chinese)
must say the same thing. Prose cannot be compared mechanically, but their
structure, commands, part table and key rules can.
"""

from __future__ import annotations

import re

import pytest
from homework_project import ROOT, STARTER

from grader.rubric import load_rubric

GUIDES = {"en": ROOT / "INSTRUCTIONS.md", "zh-TW": ROOT / "INSTRUCTIONS.zh-TW.md"}
# What every guide must name: the hints and rules the contract asks for.
KEY_TERMS = (
    "asyncio.gather",
    "asyncio.TaskGroup",
    "httpx.AsyncClient",
    "asyncio.timeout",
    "sync_to_async",
    "SynchronousOnlyOperation",
    "acreate",
    "timezone.localdate()",
    "date.today()",
    "ZoneInfo(settings.TIME_ZONE)",
    "update_or_create",
    "crontab",
    "MiddlewareMixin",
    "async def __call__",
    "sync_capable = True",
    "async_capable = True",
    "markcoroutinefunction",
    "sync_and_async_middleware",
    "Server-Timing: app;dur=",
    "UPSTREAM_TIMEOUT + 0.5",
    '"timeout"',
    '{"error": "user not found"}',
    "homework/middleware.py",
    "tests/public/",
    "grader bench SUBMISSION",
    "--reset",
    "--days N",
)


def read(name: str) -> str:
    return GUIDES[name].read_text(encoding="utf-8")


def shell_lines(text: str) -> list[str]:
    """The commands of every ```bash block, comments dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    lines = [line.split(" #", 1)[0].rstrip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("guide", GUIDES)
def test_the_part_table_matches_the_rubric(guide: str) -> None:
    text = read(guide)
    for part in load_rubric().parts:
        row = re.search(rf"^\| `{part.id}` \| (\d+) \| (.+?) \|", text, flags=re.MULTILINE)
        assert row, f"{guide}: no table row for {part.id}"
        assert float(row.group(1)) == part.points, f"{guide}: {part.id} points"
        for file in part.files:
            assert f"`{file}`" in row.group(2), f"{guide}: {part.id} row lacks {file}"


@pytest.mark.parametrize("guide", GUIDES)
def test_every_key_rule_and_hint_is_there(guide: str) -> None:
    text = read(guide)
    missing = [term for term in KEY_TERMS if term not in text]
    assert not missing, f"{guide} does not mention {missing}"


def test_both_guides_give_the_same_commands_and_sections() -> None:
    english, chinese = read("en"), read("zh-TW")
    assert shell_lines(english) == shell_lines(chinese)
    expected = [
        "python3 -m venv .venv",
        "pip install -e .",
        "python -m pytest tests",
        "grader check",
        "python manage.py migrate",
        "python manage.py load_demo_data",
        "uvicorn config.asgi:application",
        "celery -A config worker -B -l info",
        "export CELERY_BROKER_URL=redis://127.0.0.1:6379/0",
    ]
    missing = [command for command in expected if command not in shell_lines(english)]
    assert not missing, missing

    def headings(text: str) -> list[list[str]]:
        """Per heading, the code names in it (part ids and files): language-neutral."""
        lines = re.findall(r"^##+ .*$", text, flags=re.MULTILINE)
        return [re.findall(r"`([^`]+)`", line) for line in lines]

    assert len(headings(english)) >= 8
    assert headings(english) == headings(chinese), "the sections differ"
    assert len(re.findall(r"[\u4e00-\u9fff]", chinese)) > 3000, "the Chinese guide is not Chinese"


def test_the_commands_the_guides_name_exist() -> None:
    command = STARTER / "homework" / "management" / "commands" / "load_demo_data.py"
    source = command.read_text(encoding="utf-8")
    assert '"--reset"' in source and '"--days"' in source
    settings = (STARTER / "config" / "settings.py").read_text(encoding="utf-8")
    for variable in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "UPSTREAM_API_URL"):
        assert re.search(rf'os\.environ\.get\(\s*"{variable}"', settings), variable
    assert "DATABASE_URL" in settings
