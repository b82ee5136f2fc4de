"""The hub in-process, on a real database: races and edge cases. Those not about the CLI
run on the in-memory echo agent; the rest on the real CLI."""

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.base import AgentDriver
from switchboard.agents.claude.driver import ClaudeDriver, ClaudeSettings
from switchboard.compose import hub_limits, session_settings
from switchboard.config import Settings
from switchboard.hub.fanout import LocalBroadcaster, WireEvent
from switchboard.hub.hub import Hub, HubError
from switchboard.hub.parts import HubParts
from switchboard.protocol.messages import RunOptions
from switchboard.scripted_model import Script, ScriptedModelServer
from switchboard.store.ports import Stores
from switchboard.store.records import NewEvent
from switchboard.store.sqlite import open_stores
from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.migrate import upgrade
from tests.conftest import ClaudeBinary
from tests.support.echo_agent import EchoDriver
from tests.support.hub import finishes

pytestmark = pytest.mark.timeout(90)


STORES: dict[int, Stores] = {}
"""The stores each hub of a test was given, by ``id(hub)``: for tests that set state
behind the hub's back."""


@pytest.fixture
async def hubs(store_url: str) -> AsyncIterator[Callable[..., object]]:
    opened: list[Hub] = []

    async def make(
        agents: AgentDriver | Path, env: dict[str, str] | None = None, **limits: Any
    ) -> Hub:
        engine = open_engine(store_url)
        upgrade(engine)
        if isinstance(agents, Path):
            env = env if env is not None else dict(os.environ)
            agents = ClaudeDriver(ClaudeSettings(str(agents), env, max_line_bytes=1 << 20))
        settings = replace(
            session_settings(Settings()),
            kill_grace=0.3,
            interrupt_grace=float(limits.pop("interrupt_grace", 1.0)),
            idle_timeout=60,
        )
        stores = open_stores(engine)
        chosen = hub_limits(Settings(allowed_roots=(), **limits))
        broadcaster = LocalBroadcaster(stores.events.head)
        hub = Hub(HubParts(stores, broadcaster, agents, settings, chosen))
        await hub.start()
        opened.append(hub)
        STORES[id(hub)] = stores
        return hub

    yield make
    for hub in opened:
        await hub.close()
        STORES.pop(id(hub), None)


async def finished(hub: Hub, project: str, run_id: str, timeout: float = 30) -> dict[str, object]:
    """Wait for the run's finished state: from the log, or as it is published."""
    ended: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()

    class Watch:
        def on_event(self, event: WireEvent) -> None:
            message = json.loads(event.frame)
            if finishes(message, run_id) and not ended.done():
                ended.set_result(dict(message["data"]))

        def on_delta(self, frame: str) -> None: ...

    watch = Watch()
    hub.events.subscribe(project, watch)  # before reading, so nothing falls in between
    try:
        for event in await hub.events.read(project, 0, 10_000):
            watch.on_event(event)
        return await asyncio.wait_for(ended, timeout)
    finally:
        hub.events.unsubscribe(project, watch)


async def test_a_cancel_before_the_cli_has_the_prompt_is_not_lost(
    hubs: Callable[..., object], tmp_path: Path
) -> None:
    hub: Hub = await hubs(EchoDriver(), run_timeout=60)  # type: ignore[misc]
    project = await hub.add_project(str(tmp_path), None)
    run = await hub.submit(project.id, "hang", RunOptions())
    await hub.cancel(project.id, run.id)  # most likely before the CLI even started
    started = time.monotonic()
    final = await finished(hub, project.id, run.id)
    assert final["state"] == "cancelled"
    assert time.monotonic() - started < 15


async def test_removing_a_project_while_requests_write_to_it_breaks_nothing(
    hubs: Callable[..., object], tmp_path: Path
) -> None:
    hub: Hub = await hubs(EchoDriver())  # type: ignore[misc]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    doomed = await hub.add_project(str(tmp_path / "a"), None)
    other = await hub.add_project(str(tmp_path / "b"), None)
    results = await asyncio.gather(
        hub.new_session(doomed.id),
        hub.remove_project(doomed.id),
        hub.submit(doomed.id, "late", RunOptions()),
        return_exceptions=True,
    )
    for result in results:
        assert not isinstance(result, Exception) or isinstance(result, HubError), result
    run = await hub.submit(other.id, "still works", RunOptions())
    assert (await finished(hub, other.id, run.id))["state"] == "completed"
    assert [p.name for p in hub.project_infos()] == ["b"]


async def test_a_cancelled_caller_does_not_stop_its_events_from_being_published(
    hubs: Callable[..., object], tmp_path: Path
) -> None:
    hub: Hub = await hubs(EchoDriver())  # type: ignore[misc]
    project = await hub.add_project(str(tmp_path), None)
    seen: list[int] = []

    class Listener:
        def on_event(self, event: object) -> None:
            seen.append(event.seq)  # type: ignore[attr-defined]

        def on_delta(self, frame: str) -> None: ...

    hub.events.subscribe(project.id, Listener())
    cut = asyncio.ensure_future(hub.events.append(project.id, 1, [NewEvent("cli", "{}")]))
    await asyncio.sleep(0)
    cut.cancel()
    await hub.events.append(project.id, 1, [NewEvent("cli", "{}")])
    assert seen == [1, 2]


async def test_a_lost_session_fails_one_run_and_the_next_starts_fresh(
    hubs: Callable[..., object],
    tmp_path: Path,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "Fresh start."}))
    hub: Hub = await hubs(bundled_claude_bin.path, claude_env)  # type: ignore[misc]
    (tmp_path / "work").mkdir()
    project = await hub.add_project(str(tmp_path / "work"), None)
    await STORES[id(hub)].projects.set_session(
        project.id, str(uuid.uuid4())
    )  # the CLI never had it
    lost = await hub.submit(project.id, "hello?", RunOptions())
    failed = await finished(hub, project.id, lost.id)
    assert failed["state"] == "failed" and "No conversation found" in str(failed["error"])
    assert hub.project(project.id).session_id is None
    again = await hub.submit(project.id, "hello again", RunOptions())
    final = await finished(hub, project.id, again.id)
    assert final["state"] == "completed" and final["session_id"]


async def test_bypass_permissions_needs_the_servers_consent(
    hubs: Callable[..., object], tmp_path: Path
) -> None:
    hub: Hub = await hubs(EchoDriver())  # type: ignore[misc]
    project = await hub.add_project(str(tmp_path), None)
    with pytest.raises(HubError) as refused:
        await hub.submit(project.id, "hi", RunOptions(permission_mode="bypassPermissions"))
    assert refused.value.code == "permission_mode_not_allowed"
    assert hub.project_info(project.id).queued == 0
    run = await hub.submit(project.id, "hi", RunOptions(permission_mode="acceptEdits"))
    assert (await finished(hub, project.id, run.id))["state"] == "completed"


async def test_the_status_after_a_prompt_counts_the_queued_run(
    hubs: Callable[..., object], tmp_path: Path
) -> None:
    hub: Hub = await hubs(EchoDriver(), run_timeout=60)  # type: ignore[misc]
    project = await hub.add_project(str(tmp_path), None)
    seen: list[tuple[str | None, int]] = []
    hub.add_listener(lambda message, _frame: seen.append(status_of(message)))
    running = await hub.submit(project.id, "hang", RunOptions())
    await hub.submit(project.id, "waits", RunOptions())
    await hub.submit(project.id, "waits too", RunOptions())
    assert seen[-1] == (running.id, 2)  # the last word on each prompt is the true count
    await hub.cancel(project.id, None)


def status_of(message: object) -> tuple[str | None, int]:
    project = getattr(message, "project", None)
    return (getattr(project, "running_run", None), int(getattr(project, "queued", -1)))
