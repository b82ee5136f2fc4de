"""The plan behind an ``ExitPlanMode`` question, for the clients that must approve it.

CLI 2.1.197 puts the plan in the tool's input (``plan``). CLI 2.1.330 has Claude write
it to a plan file under ``~/.claude/plans/`` first (with Write or Edit) and then asks
with an empty input; the plan is then read from the last plan file Claude wrote.
"""

import asyncio
from pathlib import Path
from typing import Any

from switchboard.protocol.control import PermissionRequest

PLAN_DIRECTORY = (".claude", "plans")
MAX_PLAN_BYTES = 256 * 1024
WRITING_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})


def is_plan_file(path: Path) -> bool:
    """A Markdown file directly in a ``.claude/plans`` directory, by an absolute path."""
    return (
        path.is_absolute()
        and ".." not in path.parts
        and path.suffix == ".md"
        and path.parent.parts[-2:] == PLAN_DIRECTORY
    )


def plan_file_written(message: dict[str, Any]) -> Path | None:
    """The last plan file an ``assistant`` line writes or edits, if any."""
    inner = message.get("message")
    content = inner.get("content") if isinstance(inner, dict) else None
    found = None
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            continue
        tool_input = block.get("input")
        path = tool_input.get("file_path") if isinstance(tool_input, dict) else None
        writes = block.get("name") in WRITING_TOOLS and isinstance(path, str)
        if writes and is_plan_file(Path(str(path))):
            found = Path(str(path))
    return found


def read_plan(path: Path) -> str | None:
    """The plan file's text, cut at ``MAX_PLAN_BYTES`` (saying where the rest is)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_PLAN_BYTES + 1)
    except OSError:
        return None
    text = data[:MAX_PLAN_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_PLAN_BYTES:
        text += f"\n\n[… the plan goes on; the whole of it is in {path}]"
    return text


async def plan_for(request: PermissionRequest, last_plan_file: Path | None) -> str | None:
    """The plan an ``ExitPlanMode`` request asks to approve (None for other tools, or
    when there is none to be found)."""
    if request.tool_name != "ExitPlanMode":
        return None
    given = request.input.get("plan")
    if isinstance(given, str) and given.strip():
        return given
    if last_plan_file is None:
        return None
    return await asyncio.to_thread(read_plan, last_plan_file)
