"""What raises an alert, through a real server (in this process) running the echo agent,
with a loopback receiver as ``--notify-url``: a permission prompt and a run's end do; a
request a remembered rule answers, a cancelled run and a project a client shows do not;
a skill's question does, as a question."""

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from switchboard.embed import Switchboard, settings_with
from tests.support.echo_agent import EchoDriver
from tests.support.hub import follow, next_event
from tests.support.push_service import PushReceiver

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    with PushReceiver() as running:
        yield running


@pytest.fixture
async def server(tmp_path: Path, receiver: PushReceiver) -> AsyncIterator[Switchboard]:
    settings = settings_with(
        data_dir=tmp_path / "data",
        port=0,
        allowed_roots=(tmp_path,),
        notify_url=receiver.url("/hook"),
    )
    running = await Switchboard.start(settings, agents=EchoDriver())
    yield running
    await running.stop()


async def alert(receiver: PushReceiver) -> dict[str, Any]:
    return dict(json.loads((await receiver.next(timeout=20)).body))


async def test_prompts_rules_cancels_and_presence(
    server: Switchboard, receiver: PushReceiver, tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    async with await SwitchboardClient.connect(server.url, server.token) as client:
        project = await client.add_project(str(tmp_path / "app"))
        await client.subscribe(project["id"])

        asked = await client.prompt(project["id"], "ask first")
        required = (await next_event(client, "confirmation_required"))["confirmation"]
        got = await alert(receiver)
        assert (got["kind"], got["title"], got["confirmation"]) == (
            "confirmation",
            "app: Claude asks to use Echo",
            required["id"],
        )
        await client.answer(required["id"], "allow", remember=True)
        await follow(client, asked["id"])
        got = await alert(receiver)
        assert (got["kind"], got["run"]) == ("run_completed", asked["id"])

        # a remembered rule answers the same request: no confirmation alert, just the end
        again = await client.prompt(project["id"], "ask first")
        assert (await follow(client, again["id"])).final["state"] == "completed"
        got = await alert(receiver)
        assert (got["kind"], got["run"]) == ("run_completed", again["id"])

        # a cancelled run: no alert (the next one is the following run's end)
        hanging = await client.prompt(project["id"], "hang on")
        await client.cancel(project["id"], hanging["id"])
        assert (await follow(client, hanging["id"])).final["state"] == "cancelled"
        after = await client.prompt(project["id"], "after")
        await follow(client, after["id"])
        got = await alert(receiver)
        assert (got["kind"], got["run"]) == ("run_completed", after["id"])

        # shown by this client: nothing; a skill's question once it is not
        await client.request("presence", projects=[project["id"]], visible=True)
        shown = await client.prompt(project["id"], "while shown")
        await follow(client, shown["id"])
        await client.request("presence", projects=[], visible=False)
        await client.request(
            "confirmation.request",
            project=project["id"],
            skill_id="deploy",
            step_index=0,
            prompt="Ship it?",
            options=["ship", "wait"],
        )
        got = await alert(receiver)
        assert (got["kind"], got["title"], got["body"]) == (
            "question",
            "app: deploy asks",
            "Ship it?",
        )
    assert receiver.taken() == []
