"""``GET /metrics`` of a real server while the real CLI runs against the scripted model:
the figures move with what happens, promtool accepts the output, and the docs list
every metric."""

import asyncio
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ROOT, ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, follow, next_event
from tests.support.metrics import Scrape, scrape, scrape_until
from tests.support.turns import TOUCH

pytestmark = pytest.mark.timeout(180)

METRICS_TOKEN = "metrics-only-secret-7f3a"
USAGE = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
}
"""What every scripted reply reports using (the CLI prices it: the runs cost money)."""


def promtool_problems(text: str) -> str:
    """What ``promtool check metrics`` says about ``text`` (empty: nothing)."""
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool missing: apt-get install prometheus (scripts/test does)"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    return f"{checked.returncode}: {checked.stdout}{checked.stderr}" if checked.returncode else ""


def documented(scraped: Scrape) -> list[str]:
    """The metrics the server exposes that docs/operations.md does not list."""
    doc = (ROOT / "docs" / "operations.md").read_text()
    return [name for name in scraped.exposed_names() if f"`{name}`" not in doc]


def run_figures(runs: list[dict[str, Any]]) -> tuple[float, int]:
    """What the runs cost and the input tokens they used, as their events say."""
    cost = sum(r["cost_usd"] or 0.0 for r in runs)
    return cost, sum((r["usage"] or {}).get("input_tokens", 0) for r in runs)


async def test_metrics_follow_runs_confirmations_and_costs(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            {"tool_use": TOUCH, "usage": USAGE},  # run 1 asks; it is allowed
            {"text": "Finished.", "usage": USAGE},
            {"tool_use": TOUCH, "usage": USAGE},  # run 2 asks; it is cancelled
        )
    )
    server = servers.start(bundled_claude_bin.path, SWITCHBOARD_METRICS_TOKEN=METRICS_TOKEN)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir, "metered")
        first = await client.prompt(project["id"], "create the file")
        asked = (await next_event(client, "confirmation_required"))["confirmation"]
        waiting = scrape(server, METRICS_TOKEN)
        assert waiting.value("switchboard_confirmations_pending", kind="tool_permission") == 1
        assert waiting.value("switchboard_runs", project="metered", state="running") == 1
        assert waiting.value("switchboard_subscribers", project="metered") == 1
        assert waiting.value("switchboard_websocket_connections", endpoint="/ws") == 1
        assert waiting.value("switchboard_cli_processes", endpoint="/ws") == 1
        await client.answer(asked["id"], "allow")
        completed = (await follow(client, first["id"])).final
        second = await client.prompt(project["id"], "create it again")
        asked_again = (await next_event(client, "confirmation_required"))["confirmation"]
        await client.cancel(project["id"], second["id"])
        cancelled = (await follow(client, second["id"])).final
        head = (await client.projects())[0]["head"]

        def both_counted(found: Scrape) -> bool:
            return found.value("switchboard_runs_finished_total", state="cancelled") == 1

        found = await scrape_until(server, both_counted)
        head_after = (await client.projects())[0]["head"]  # the CLI may still print
    assert (completed["state"], cancelled["state"]) == ("completed", "cancelled")
    assert asked_again["kind"] == "tool_permission"
    assert found.value("switchboard_runs_finished_total", state="completed") == 1
    assert found.value("switchboard_runs_finished_total", state="failed") == 0
    assert found.value("switchboard_run_duration_seconds_count") == 2
    assert found.value("switchboard_runs", project="metered", state="running") == 0
    assert found.value("switchboard_runs", project="metered", state="queued") == 0
    assert head <= found.value("switchboard_events_appended_total") <= head_after  # all of them
    assert found.value("switchboard_events_delivered_total", path="live") > 0
    live_and_replayed = found.value(
        "switchboard_events_delivered_total", path="live"
    ) + found.value("switchboard_events_delivered_total", path="replay")
    assert live_and_replayed >= head
    answered = {"kind": "tool_permission", "by": "client"}
    assert found.value("switchboard_confirmations_answered_total", **answered) == 1
    expired = {"kind": "tool_permission", "reason": "cancelled"}
    assert found.value("switchboard_confirmations_expired_total", **expired) == 1
    assert found.value("switchboard_confirmations_pending", kind="tool_permission") == 0
    assert found.value("switchboard_confirmation_answer_seconds_count", kind="tool_permission") == 1
    cost, input_tokens = run_figures([completed, cancelled])
    assert cost > 0 and input_tokens >= USAGE["input_tokens"]
    assert found.value("switchboard_cost_usd_total", project="metered") == pytest.approx(cost)
    assert found.value("switchboard_tokens_total", project="metered", type="input") == input_tokens
    assert found.value("switchboard_store_write_seconds_count") > 0
    assert found.value("switchboard_agents", state="online") == 0
    assert found.value("switchboard_build_info", version=_version(found)) == 1
    lagged = await scrape_until(
        server, lambda s: s.value("switchboard_event_loop_lag_seconds_count") > 0
    )
    assert promtool_problems(lagged.text) == ""
    assert documented(lagged) == []


def _version(found: Scrape) -> str:
    [info] = [s for s in found.samples if s.name == "switchboard_build_info"]
    return info.labels["version"]


async def test_removing_a_project_drops_its_series(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "Done.", "usage": USAGE}))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir, "gone-soon")
        run = await client.prompt(project["id"], "hello")
        assert (await follow(client, run["id"])).final["state"] == "completed"
        counted = await scrape_until(
            server, lambda s: s.value("switchboard_cost_usd_total", project="gone-soon") > 0
        )
        await client.remove_project(project["id"])
    assert counted.value("switchboard_tokens_total", project="gone-soon", type="output") > 0
    after = await asyncio.to_thread(scrape, server)
    assert not re.search(r'project="gone-soon"', after.text)
    assert after.value("switchboard_runs_finished_total", state="completed") == 1  # kept
