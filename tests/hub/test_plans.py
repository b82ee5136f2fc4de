"""Finding the plan an ExitPlanMode question asks to approve."""

from pathlib import Path
from typing import Any

from switchboard.hub.plans import MAX_PLAN_BYTES, is_plan_file, plan_file_written, plan_for
from switchboard.protocol.control import PermissionRequest


def asking(tool: str, tool_input: dict[str, Any]) -> PermissionRequest:
    return PermissionRequest("r1", tool, tool_input, "toolu_1", [], {})


def writing(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "assistant", "message": {"content": list(blocks)}}


def test_only_markdown_files_in_a_plans_directory_count() -> None:
    assert is_plan_file(Path("/home/u/.claude/plans/plan-wobbly-pinwheel.md"))
    assert not is_plan_file(Path("/home/u/.claude/plans/notes.txt"))
    assert not is_plan_file(Path("/home/u/project/plan.md"))
    assert not is_plan_file(Path(".claude/plans/relative.md"))
    assert not is_plan_file(Path("/home/u/.claude/plans/../../../etc/x.md"))


def test_the_last_plan_file_written_or_edited_is_found() -> None:
    plan = "/h/.claude/plans/a.md"
    message = writing(
        {"type": "text", "text": "Writing the plan."},
        {"type": "tool_use", "name": "Write", "input": {"file_path": "/h/project/x.md"}},
        {"type": "tool_use", "name": "Edit", "input": {"file_path": plan}},
    )
    assert plan_file_written(message) == Path(plan)
    assert plan_file_written(writing({"type": "tool_use", "name": "Read", "input": {}})) is None
    assert plan_file_written({"type": "assistant", "message": "not a dict"}) is None


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
