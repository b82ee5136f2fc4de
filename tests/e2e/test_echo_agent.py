"""The agent seam, end to end: a second driver (an echo agent, in memory) runs a project
through a real server and real ``/ws`` clients: subscribe, prompt, replay, answer,
cancel. Nothing Claude-specific is involved."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.embed import Switchboard, settings_with
from tests.support.echo_agent import EchoDriver
from tests.support.hub import follow, follow_answering

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def echo_server(tmp_path: Path) -> AsyncIterator[tuple[Switchboard, EchoDriver]]:
    driver = EchoDriver()
    settings = settings_with(data_dir=tmp_path / "data", port=0, allowed_roots=(tmp_path,))
    server = await Switchboard.start(settings, agents=driver)
    yield server, driver
    await server.stop()


def agent_lines(events: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e["data"] for e in events if e["kind"] == "cli"]  # type: ignore[misc]


async def test_a_project_runs_on_the_echo_agent_through_ws(
    echo_server: tuple[Switchboard, EchoDriver], tmp_path: Path
) -> None:
    server, driver = echo_server
    (tmp_path / "app").mkdir()
    async with await SwitchboardClient.connect(server.url, server.token) as client:
        assert client.snapshot["permission_modes"] == ["default", "acceptEdits"]
        project = await client.add_project(str(tmp_path / "app"))
        with pytest.raises(RequestError) as refused:  # a mode this agent does not know
            await client.prompt(project["id"], "hi", permission_mode="plan")
        assert refused.value.code == "permission_mode_not_allowed"
        await client.subscribe(project["id"])
        ack = await client.prompt(project["id"], "hello, echo")
        followed = await follow(client, ack["id"])
        assert followed.final["state"] == "completed"
        assert {"agent": "echo", "type": "reply", "text": "hello, echo"} in agent_lines(
            followed.events
        )
        session = followed.final["session_id"]
        assert session == driver.launched[0].session_id

        # a second prompt goes to the same agent process and session
        again = await client.prompt(project["id"], "once more")
        second = await follow(client, again["id"])
        assert second.final["state"] == "completed" and second.final["session_id"] == session
        assert len(driver.launched) == 1 and driver.launched[0].prompts == [
            "hello, echo",
            "once more",
        ]
        live = followed.events + second.events

    # a client that comes later replays the same events, in order, with no gap
    async with await SwitchboardClient.connect(server.url, server.token) as late:
        head = await late.subscribe(project["id"], since=0)
        replayed = []
        async for message in late.messages():
            if message["type"] == "event":
                replayed.append(message)
            if replayed and replayed[-1]["seq"] == head:
                break
    assert [e["seq"] for e in replayed] == list(range(1, head + 1))
    by_seq = {e["seq"]: e for e in replayed}
    for event in live:
        assert by_seq[event["seq"]] == event


async def test_an_echo_run_can_be_answered_and_cancelled(
    echo_server: tuple[Switchboard, EchoDriver], tmp_path: Path
) -> None:
    server, _driver = echo_server
    (tmp_path / "app").mkdir()
    async with await SwitchboardClient.connect(server.url, server.token) as client:
        project = await client.add_project(str(tmp_path / "app"))
        await client.subscribe(project["id"])

        asked = await client.prompt(project["id"], "ask first")
        answered = await follow_answering(client, asked["id"])
        assert answered.final["state"] == "completed"
        assert {"agent": "echo", "type": "reply", "text": "allowed"} in agent_lines(answered.events)

        hanging = await client.prompt(project["id"], "hang on")
        queued = await client.prompt(project["id"], "after the cancel")
        cancelled = await client.cancel(project["id"], hanging["id"])
        assert cancelled["id"] == hanging["id"]
        followed = await follow(client, hanging["id"], queued["id"])
        assert followed.final["state"] == "cancelled"
        states = followed.run_states(queued["id"])
        assert states[-1] == "completed"
        assert {"agent": "echo", "type": "reply", "text": "interrupted"} in agent_lines(
            followed.events
        )
