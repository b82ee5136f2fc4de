"""A project whose event log refuses writes stops, says why, and goes on once it can.

The database refuses through a trigger here (deterministic, and only for one project);
tests/server/test_disk_full.py fills a real filesystem."""

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from switchboard.hub.hub import Hub
from switchboard.protocol.messages import ProjectInfo, ProjectRemoved, ProjectStatus, RunOptions
from switchboard.store.sqlite.database import open_engine
from tests.hub.test_hub import finished, hubs
from tests.support.echo_agent import EchoDriver
from tests.support.refusals import accept_inserts, refuse_inserts

__all__ = ["hubs"]

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def database(store_url: str) -> Iterator[Engine]:
    """The database the hubs of ``hubs`` open (to make it refuse writes)."""
    engine = open_engine(store_url)
    yield engine
    engine.dispose()


async def status_where(
    hub: Hub, project_id: str, check: Callable[[ProjectInfo], bool]
) -> ProjectInfo:
    """The first project_status of ``project_id`` from now on that passes ``check``."""
    seen: asyncio.Future[ProjectInfo] = asyncio.get_running_loop().create_future()

    def listener(message: ProjectStatus | ProjectRemoved, _frame: str) -> None:
        if not isinstance(message, ProjectStatus) or message.project.id != project_id:
            return
        if check(message.project) and not seen.done():
            seen.set_result(message.project)

    hub.add_listener(listener)
    try:
        return await asyncio.wait_for(seen, 30)
    finally:
        hub.remove_listener(listener)


async def test_a_project_whose_log_refuses_writes_stops_and_goes_on_when_it_can(
    hubs: Callable[..., object], tmp_path: Path, database: Engine
) -> None:
    hub: Hub = await hubs(EchoDriver())  # type: ignore[misc]
    (tmp_path / "full").mkdir()
    (tmp_path / "other").mkdir()
    full = await hub.add_project(str(tmp_path / "full"), None)
    other = await hub.add_project(str(tmp_path / "other"), None)
    # From its first CLI line on (1: queued, 2: running).
    refuse_inserts(database, f"NEW.project_id = '{full.id}' AND NEW.seq >= 3")
    stopped = asyncio.ensure_future(
        status_where(hub, full.id, lambda p: bool(p.store_error) and p.status == "idle")
    )
    lost = await hub.submit(full.id, "one", RunOptions())
    info = await stopped
    assert info.store_error is not None and "disk is full" in info.store_error
    assert (info.status, info.running_run, info.head) == ("idle", None, 2)

    # The other project goes on meanwhile.
    elsewhere = await hub.submit(other.id, "two", RunOptions())
    assert (await finished(hub, other.id, elsewhere.id))["state"] == "completed"

    accept_inserts(database)  # space again
    recovered = asyncio.ensure_future(status_where(hub, full.id, lambda p: not p.store_error))
    after = await hub.submit(full.id, "three", RunOptions())  # the worker tries at once
    assert (await finished(hub, full.id, after.id))["state"] == "completed"
    await recovered
    ended = await finished(hub, full.id, lost.id)
    assert ended["state"] == "failed"
    assert "event log could not be written" in str(ended["error"])
    assert "disk is full" in str(ended["error"])

    stored = await hub.events.read(full.id, 0, 1000)
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert hub.project_info(full.id).store_error is None
    kinds = [(json.loads(e.frame)["kind"], json.loads(e.frame)["run"]) for e in stored]
    assert kinds[:2] == [("run", lost.id), ("run", lost.id)]  # queued, running: then it broke
    assert sorted(kinds[2:4]) == sorted([("run", after.id), ("run", lost.id)])
