"""The plan behind an ``ExitPlanMode`` question, for the clients that must approve it.

CLI 2.1.197 puts the plan in the tool's input (``plan``). CLI 2.1.330 has Claude write
it to a plan file in the CLI's own plans directory (``~/.claude/plans/``, or under
``$CLAUDE_CONFIG_DIR``) first, with Write or Edit, and then asks with an empty input;
the plan is then read from the last plan file Claude named. Only a regular file directly
in that directory is read, never through a symlink, and never for longer than
``READ_SECONDS``: the path comes from the model, and a checked-out repository could
hold a ``.claude/plans`` of its own.
"""

import asyncio
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from switchboard.agents.claude.control import PermissionRequest

MAX_PLAN_BYTES = 256 * 1024
READ_SECONDS = 2.0
WRITING_TOOLS = frozenset({"Write", "Edit", "MultiEdit"})


def plans_directory(env: Mapping[str, str]) -> Path | None:
    """Where the CLI run with ``env`` keeps its plan files (None: no HOME to go by)."""
    config = env.get("CLAUDE_CONFIG_DIR")
    if config:
        return Path(config) / "plans"
    home = env.get("HOME")
    return Path(home) / ".claude" / "plans" if home else None


def is_plan_file(path: Path, directory: Path | None) -> bool:
    """A Markdown file directly in the CLI's plans ``directory``."""
    return (
        directory is not None
        and path.is_absolute()
        and ".." not in path.parts
        and path.suffix == ".md"
        and path.parent == directory
    )


def plan_file_written(message: dict[str, Any], directory: Path | None) -> Path | None:
    """The last plan file (in ``directory``) an ``assistant`` line writes or edits."""
    inner = message.get("message")
    content = inner.get("content") if isinstance(inner, dict) else None
    found = None
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            continue
        tool_input = block.get("input")
        path = tool_input.get("file_path") if isinstance(tool_input, dict) else None
        writes = block.get("name") in WRITING_TOOLS and isinstance(path, str)
        if writes and is_plan_file(Path(str(path)), directory):
            found = Path(str(path))
    return found


def read_plan(path: Path) -> str | None:
    """The plan file's text, cut at ``MAX_PLAN_BYTES`` (saying where the rest is); None
    unless it is a regular file (opened without blocking, so a FIFO cannot hang us)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None  # a symlink, FIFO or device: not a plan the CLI wrote
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW
        descriptor = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        data = file.read(MAX_PLAN_BYTES + 1)
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
    try:
        async with asyncio.timeout(READ_SECONDS):  # a hung mount must not stall the run
            return await asyncio.to_thread(read_plan, last_plan_file)
    except TimeoutError:
        return None
