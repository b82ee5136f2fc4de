"""Budgets with the real CLI: the scripted model reports token usage, the CLI prices it
(each build at its own model's prices), and Switchboard refuses prompts once a
project's daily spend reaches its budget, stops a run that passes its per-run budget,
and keeps what was spent across a restart."""

from pathlib import Path
from typing import Any

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, follow, prompt_and_follow

pytestmark = pytest.mark.timeout(120)

COSTLY = {"input_tokens": 200_000, "output_tokens": 1_000}
"""A model call that costs $0.80 or more at either build's prices (2.1.197 prices it
as Opus 4.8 at $5/$25 per million tokens: $1.025; 2.1.330 as Opus 5.5 at $4/$20: $0.82)."""


def costly(text: str, **turn: Any) -> dict[str, Any]:
    return {"text": text, "usage": COSTLY, **turn}


async def budget_of(client: SwitchboardClient, project: str) -> dict[str, Any]:
    [info] = [p for p in await client.projects() if p["id"] == project]
    return dict(info["budget"])


async def test_prompts_are_refused_once_the_day_s_spend_reaches_the_budget(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            costly("First."),
            costly("Let me look.", tool_use={"name": "Glob", "input": {"pattern": "*"}}),
            {"text": "Never sent: the run is stopped first.", "hold": "never"},
        )
    )
    server = servers.start(claude_bin.path, "--budget-daily-usd", "1.5")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        assert project["budget"] == {
            "daily_usd": 1.5,
            "run_usd": None,
            "spent_today_usd": 0.0,
            "own_daily_usd": None,
            "own_run_usd": None,
        }
        first = await prompt_and_follow(client, project["id"], "spend")
        assert first.final["state"] == "completed"
        spent = first.final["cost_usd"]
        assert 0.8 <= spent < 1.5
        assert (await budget_of(client, project["id"]))["spent_today_usd"] == pytest.approx(spent)

        # What is left of the day's budget is the next run's limit: it is stopped.
        second = await prompt_and_follow(client, project["id"], "spend more")
        assert second.final["state"] == "interrupted"
        assert "left of the project's daily budget of $1.50" in second.final["error"]
        spent += second.final["cost_usd"]
        assert (await budget_of(client, project["id"]))["spent_today_usd"] == pytest.approx(spent)

        with pytest.raises(RequestError) as refused:
            await client.prompt(project["id"], "more")
        assert refused.value.code == "budget_exceeded"
        assert "reaches its daily budget of $1.50" in refused.value.message

        # The stopped turn made its next model call (held) or was stopped before it: a
        # race. Either way it went no further, and the next run starts a script afresh.
        assert len(scripted_model.conversation_requests) in (2, 3)
        scripted_model.set_script(Script.of(costly("Third.")))
        raised = await client.set_budget(project["id"], daily_usd=10)
        assert (raised["budget"]["daily_usd"], raised["budget"]["own_daily_usd"]) == (10, 10)
        third = await prompt_and_follow(client, project["id"], "more")
        assert third.final["state"] == "completed"
        spent += third.final["cost_usd"]
        assert (await budget_of(client, project["id"]))["spent_today_usd"] == pytest.approx(spent)


async def test_a_run_that_passes_its_budget_is_stopped_mid_way(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    (project_dir / "notes.txt").write_text("notes\n")
    scripted_model.set_script(
        Script.of(
            costly("Let me look.", tool_use={"name": "Glob", "input": {"pattern": "*.txt"}}),
            {"text": "Never sent: the run is stopped first.", "hold": "never"},
            {"text": "Done."},
        )
    )
    server = servers.start(claude_bin.path, "--budget-run-usd", "0.5")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        run = await client.prompt(project["id"], "look around")
        seen = await follow(client, run["id"], timeout=60)
    final = seen.final
    assert final["state"] == "interrupted"
    assert final["error"].startswith("budget_exceeded: the run had cost $")
    assert final["error"].endswith("more than its per-run budget of $0.50; it was stopped")
    assert final["cost_usd"] >= 0.8, "the run's cost is counted, though it was stopped"
    assert len(scripted_model.conversation_requests) <= 2, "the turn went no further"
    assert seen.run_states(run["id"]) == ["queued", "running", "interrupted"]


async def test_what_a_project_spent_today_survives_a_restart(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(Script.of(costly("Spent.")))
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(bundled_claude_bin.path, *data)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        await client.set_budget(project["id"], daily_usd=5, run_usd=3)
        spent = await prompt_and_follow(client, project["id"], "spend")
        await client.set_budget(project["id"], daily_usd=0.5, run_usd=3)
    cost = spent.final["cost_usd"]
    assert spent.final["state"] == "completed" and cost >= 0.8
    assert server.stop() == 0

    again = servers.start(bundled_claude_bin.path, *data)
    async with await connect(again) as client:
        [listed] = client.snapshot["projects"]
        assert listed["budget"]["spent_today_usd"] == pytest.approx(cost)
        assert (listed["budget"]["daily_usd"], listed["budget"]["run_usd"]) == (0.5, 3)
        with pytest.raises(RequestError) as refused:
            await client.prompt(project["id"], "more")
        assert refused.value.code == "budget_exceeded"
