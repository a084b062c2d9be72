"""The students' guides stay true: the rubric's parts and points, the same commands in both.

INSTRUCTIONS.md (English) and INSTRUCTIONS.zh-TW.md (Traditional Chinese)
must say the same thing. Prose cannot be compared mechanically, but their
structure, commands, part table and key rules can.
"""

from __future__ import annotations

import re

import pytest

from grader.model.rubric import load_rubric
from tests.support import ROOT, STARTER

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
    "python -m bench SUBMISSION",
    "--reset",
    "--days N",
)


def read(name: str) -> str:
    return GUIDES[name].read_text(encoding="utf-8")


def shell_lines(text: str, shell: str = "bash") -> list[str]:
    """The commands of every ```bash (or ```powershell) block, comments dropped."""
    blocks = re.findall(rf"```{shell}\n(.*?)```", text, flags=re.DOTALL)
    lines = [line.split(" #", 1)[0].rstrip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


# A bash line that PowerShell would not run as written.
BASH_ONLY = re.compile(r"^(curl |export |source |python3 )|\$\(seq |^[A-Z_]+=\S")
# What PowerShell lines must not hold: curl is Invoke-WebRequest there, export and
# VAR=value are not commands, and $(seq) does not exist.
NOT_POWERSHELL = re.compile(r"(^|\s)curl\s|^export |\$\(seq |^[A-Z_]+=\S|^source ")


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


@pytest.mark.parametrize("guide", GUIDES)
def test_every_bash_only_command_has_its_powershell_form(guide: str) -> None:
    """Windows students get a PowerShell block right after each bash block that needs one."""
    text = read(guide)
    blocks = re.findall(r"```(bash|powershell)\n(.*?)```", text, flags=re.DOTALL)
    assert blocks
    for index, (shell, body) in enumerate(blocks):
        lines = [line.strip() for line in body.splitlines() if not line.startswith("#")]
        if shell == "powershell":
            wrong = [line for line in lines if NOT_POWERSHELL.search(line)]
            assert not wrong, f"{guide}: not PowerShell: {wrong}"
            continue
        if any(BASH_ONLY.search(line) for line in lines):
            following = blocks[index + 1][0] if index + 1 < len(blocks) else None
            assert following == "powershell", f"{guide}: no PowerShell form after {lines[0]!r}"
    # Outside the blocks, no bash-only command hides in an inline code span.
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    inline = [span for span in re.findall(r"`([^`\n]+)`", prose) if BASH_ONLY.search(span)]
    assert not inline, f"{guide}: bash-only commands in the prose: {inline}"


def test_both_guides_give_the_same_powershell_commands() -> None:
    english = shell_lines(read("en"), "powershell")
    assert english == shell_lines(read("zh-TW"), "powershell")
    for command in (
        "curl.exe -i http://127.0.0.1:8000/async/",
        '$env:CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"',
        ".venv\\Scripts\\Activate.ps1",
    ):
        assert command in english, command
    assert any(line.startswith("Invoke-RestMethod -Method Post") for line in english)


# Mainland terms and their Taiwan usage; the lesson's own title keeps its 異步 once.
MAINLAND_TERMS = {
    "異步": "非同步",
    "線程": "執行緒",
    "默認": "預設",
    "數據": "資料",
    "代碼": "程式碼",
}


def test_the_chinese_guide_uses_taiwan_usage() -> None:
    text = read("zh-TW")
    assert text.count("異步") == 2, "異步 only where the guide says the lesson uses it"
    assert "課程中寫的「異步」就是" in text
    for term, taiwan in MAINLAND_TERMS.items():
        if term != "異步":
            assert term not in text, f"{term}: write {taiwan}"
    assert "非同步" in text and "執行緒" in text
    # One word for "view" in the prose: 視圖 (code such as async_view stays as it is).
    prose = re.sub(r"`[^`]*`|```.*?```", "", text, flags=re.DOTALL)
    assert not re.search(r"\bview\b", prose), "use 視圖 for view"
