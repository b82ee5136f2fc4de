"""Finding the plan an ExitPlanMode question asks to approve."""

import os
from pathlib import Path
from typing import Any

from switchboard.agents.claude.control import PermissionRequest
from switchboard.agents.claude.plans import (
    MAX_PLAN_BYTES,
    is_plan_file,
    plan_file_written,
    plan_for,
    plans_directory,
)

PLANS = Path("/home/u/.claude/plans")


def asking(tool: str, tool_input: dict[str, Any]) -> PermissionRequest:
    return PermissionRequest("r1", tool, tool_input, "toolu_1", [], {})


def writing(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "assistant", "message": {"content": list(blocks)}}


def test_the_plans_directory_is_the_clis_own() -> None:
    assert plans_directory({"HOME": "/home/u"}) == PLANS
    assert plans_directory({"HOME": "/home/u", "CLAUDE_CONFIG_DIR": "/etc/cc"}) == Path(
        "/etc/cc/plans"
    )
    assert plans_directory({}) is None


def test_only_markdown_files_directly_in_the_clis_plans_directory_count() -> None:
    assert is_plan_file(PLANS / "plan-wobbly-pinwheel.md", PLANS)
    assert not is_plan_file(PLANS / "notes.txt", PLANS)
    assert not is_plan_file(PLANS / "sub" / "plan.md", PLANS)
    assert not is_plan_file(Path("/home/u/repo/.claude/plans/x.md"), PLANS)  # a repo's own
    assert not is_plan_file(Path(".claude/plans/relative.md"), Path(".claude/plans"))
    assert not is_plan_file(PLANS / ".." / "plans" / "x.md", PLANS)
    assert not is_plan_file(PLANS / "x.md", None)


def test_the_last_plan_file_written_or_edited_is_found() -> None:
    plan = str(PLANS / "a.md")
    message = writing(
        {"type": "text", "text": "Writing the plan."},
        {"type": "tool_use", "name": "Write", "input": {"file_path": "/home/u/project/x.md"}},
        {"type": "tool_use", "name": "Edit", "input": {"file_path": plan}},
    )
    assert plan_file_written(message, PLANS) == Path(plan)
    assert plan_file_written(message, Path("/elsewhere")) is None
    reading = writing({"type": "tool_use", "name": "Read", "input": {"file_path": plan}})
    assert plan_file_written(reading, PLANS) is None
    assert plan_file_written({"type": "assistant", "message": "not a dict"}, PLANS) is None


async def test_the_plan_comes_from_the_input_or_else_the_plan_file(tmp_path: Path) -> None:
    given = asking("ExitPlanMode", {"plan": "1. Do it"})  # CLI 2.1.197
    assert await plan_for(given, None) == "1. Do it"
    plans = tmp_path / ".claude" / "plans"
    plans.mkdir(parents=True)
    file = plans / "p.md"
    file.write_text("## From the file")
    empty = asking("ExitPlanMode", {})  # CLI 2.1.330
    assert await plan_for(empty, file) == "## From the file"
    assert await plan_for(empty, None) is None
    assert await plan_for(empty, plans / "gone.md") is None  # unreadable: no plan, no error
    assert await plan_for(asking("Bash", {"plan": "x"}), file) is None
    file.write_text("x" * (MAX_PLAN_BYTES + 10))
    long = await plan_for(empty, file)
    assert long is not None and long.startswith("x" * MAX_PLAN_BYTES) and str(file) in long


async def test_no_plan_is_read_through_a_symlink_or_from_a_fifo(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("not a plan")
    link = tmp_path / "link.md"
    link.symlink_to(secret)
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    empty = asking("ExitPlanMode", {})
    assert await plan_for(empty, link) is None
    assert await plan_for(empty, fifo) is None  # not opened at all: nothing to hang on
