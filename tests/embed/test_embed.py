"""The process-wide helpers and the in-process skill API, on this test's event loop."""

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.client import SwitchboardClient
from switchboard.embed import (
    Switchboard,
    get_switchboard,
    settings_with,
    start_switchboard,
    stop_switchboard,
)
from switchboard.exceptions import ConfigError, SwitchboardError
from switchboard.skill_reporter import ConfirmationAnswer
from tests.support.hub import next_event

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def switchboard(tmp_path: Path) -> AsyncIterator[Switchboard]:
    started = await start_switchboard(data_dir=tmp_path / "data", port=0, allowed_roots=(tmp_path,))
    yield started
    await stop_switchboard()


async def ask(switchboard: Switchboard, project_dir: Path) -> "asyncio.Task[ConfirmationAnswer]":
    """A question asked in a new project, as a task; returns once a client sees it."""
    project = await switchboard.add_project(str(project_dir))
    asking = asyncio.create_task(
        switchboard.skills(project.id).request_confirmation("s", 0, "Go?", ["go"])
    )
    await question_asked(switchboard, project.id)
    return asking


async def question_asked(switchboard: Switchboard, project: str) -> None:
    """Until a client sees the project's ``confirmation_required``."""
    async with await SwitchboardClient.connect(switchboard.url, switchboard.token) as client:
        await client.subscribe(project)
        await next_event(client, "confirmation_required", timeout=10)


async def test_start_get_and_stop_the_process_wide_instance(
    switchboard: Switchboard, tmp_path: Path
) -> None:
    assert get_switchboard() is switchboard
    with pytest.raises(SwitchboardError, match="already running"):
        await start_switchboard(data_dir=tmp_path / "other", port=0)
    with pytest.raises(ConfigError, match="another Switchboard server"):
        await Switchboard.start(settings_with(data_dir=tmp_path / "data", port=0))
    async with await SwitchboardClient.connect(switchboard.url, switchboard.token) as client:
        assert client.snapshot["scope"] == "full"
    await asyncio.gather(switchboard.stop(), switchboard.stop())  # both wait, once
    assert not switchboard.running
    await stop_switchboard()
    with pytest.raises(SwitchboardError, match="not running"):
        get_switchboard()
    # The data dir is free again: the same program may start it once more.
    again = await start_switchboard(data_dir=tmp_path / "data", port=0)
    assert get_switchboard() is again


async def test_running_skills_are_in_the_snapshot_until_they_end(
    switchboard: Switchboard, project_dir: Path
) -> None:
    project = await switchboard.add_project(str(project_dir))
    assert await switchboard.add_project(str(project_dir), exist_ok=True) == project
    skills = switchboard.skills(project.name)
    await skills.skill_started("s1", "build", 2, source="test")
    await skills.step_started("s1", 1, "link")
    async with await SwitchboardClient.connect(switchboard.url, switchboard.token) as client:
        [running] = client.snapshot["running_skills"]
        assert (running["skill_id"], running["current_step"], running["producer"]) == (
            "s1",
            1,
            "embedded",
        )
    await skills.skill_failed("s1", "linker crashed", duration_ms=10)
    async with await SwitchboardClient.connect(switchboard.url, switchboard.token) as client:
        assert client.snapshot["running_skills"] == []


async def test_a_cancelled_question_is_withdrawn(
    switchboard: Switchboard, project_dir: Path
) -> None:
    asking = await ask(switchboard, project_dir)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    assert switchboard.hub.pending_confirmations() == []


async def test_stopping_the_server_answers_a_waiting_question_with_let_claude(
    switchboard: Switchboard, project_dir: Path
) -> None:
    asking = await ask(switchboard, project_dir)
    await stop_switchboard()
    assert await asyncio.wait_for(asking, 10) == {"response": "let_claude", "remember": False}


def test_the_example_in_the_embedding_doc_runs(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "embedding.md").read_text()
    example = re.search(r"```python\n(.*?)```", doc, flags=re.DOTALL)
    assert example is not None
    script = tmp_path / "embedded.py"
    script.write_text(example.group(1))
    ran = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert "listening on http://127.0.0.1:" in ran.stdout
    assert "{'response': 'let_claude', 'remember': False}" in ran.stdout


async def test_a_question_cancelled_while_it_is_being_opened_is_withdrawn(
    switchboard: Switchboard, project_dir: Path
) -> None:
    project = await switchboard.add_project(str(project_dir))
    asking = asyncio.create_task(
        switchboard.skills(project.id).request_confirmation("s", 0, "Go?", ["go"])
    )
    await asyncio.sleep(0)  # it has started opening (its event is being stored)
    asking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asking
    assert switchboard.hub.pending_confirmations() == []
    stored = await switchboard.hub.events.log.read_run(project.id, None, "confirmation")
    kinds = [json.loads(event.body)["type"] for event in stored]
    assert kinds == ["confirmation_required", "confirmation_expired"]
    assert json.loads(stored[-1].body)["reason"] == "withdrawn"
