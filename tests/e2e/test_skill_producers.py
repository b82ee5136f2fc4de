"""The skill API end to end: a program embedding Switchboard, and a producer in
another process with a scoped token, each running examples/skill_demo.py while a
WebSocket client watches and answers."""

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from switchboard.client import ConnectionLost, RequestError, SwitchboardClient
from switchboard.producer import RemoteProducer
from switchboard.server.producer_link import MAX_PENDING_PER_CONNECTION
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import add_and_watch, connect, next_event
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(120)

DEMO = Path(__file__).resolve().parents[2] / "examples" / "skill_demo.py"
SECONDS_PER_QUESTION = "5"
SKILL_STEPS = [
    "memory_query_started",
    "memory_query_completed",
    "intent_classified",
    "skill_started",
    "step_started",
    "step_completed",
    "step_started",
    "step_failed",
    "auto_heal_triggered",
    "auto_heal_completed",
    "step_completed",
    "step_started",
    "step_completed",
    "skill_completed",
]


@pytest.fixture
async def demos() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Demo processes, killed at teardown if a failed test left them running."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for demo in started:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()


async def start_demo(
    demos: list[asyncio.subprocess.Process], *args: str
) -> asyncio.subprocess.Process:
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEMO),
        *args,
        "--timeout",
        SECONDS_PER_QUESTION,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    demos.append(demo)
    return demo


async def lines_of(demo: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """Everything the demo printed, once it has exited (which it must, with 0)."""
    async with asyncio.timeout(60):
        out, err = await demo.communicate()
    assert demo.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def watch_and_answer(client: SwitchboardClient, project: str) -> list[dict[str, Any]]:
    """Follow the project from its first event; answer the first question with
    "ship" (remembered) and leave the second one alone. Returns the events up to
    ``skill_completed``."""
    await client.subscribe(project, since=0)
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(60):
        async for message in client.messages():
            if message["type"] != "event":
                continue
            events.append(message)
            data = message["data"]
            asked = data.get("confirmation") or {}
            if data.get("type") == "confirmation_required" and asked["options"][0] == "ship":
                await client.answer(asked["id"], "ship", remember=True)
            if data.get("type") == "skill_completed":
                return events
    raise AssertionError("unreachable")


def check_the_story(events: list[dict[str, Any]], producer: str) -> None:
    """The skill's events, in order, stamped; the two questions and how they ended."""
    skill = [e["data"] for e in events if e["kind"] == "skill"]
    assert [d["type"] for d in skill] == SKILL_STEPS
    assert all(d["producer"] == producer and d["at"] > 0 for d in skill)
    assert skill[3]["total_steps"] == 3 and skill[3]["step_names"] == ["build", "test", "ship"]
    assert skill[9] == {**skill[9], "step_index": 1, "success": True}
    asked = [e["data"] for e in events if e["kind"] == "confirmation"]
    assert [d["type"] for d in asked] == [
        "confirmation_required",
        "confirmation_answered",
        "confirmation_required",
        "confirmation_expired",
    ]
    ship = asked[0]["confirmation"]
    assert ship["kind"] == "skill" and ship["options"] == ["ship", "wait", "let_claude"]
    assert ship.get("tool_name") is None and ship.get("run") is None
    assert ship["skill"] == {
        "skill_id": "deploy-1",
        "step_index": 2,
        "prompt": "Ship build 1.4.2 to production?",
        "claude_suggestion": "ship",
        "producer": producer,
    }
    assert (asked[1]["response"], asked[1]["remember"], asked[1]["by"]) == ("ship", True, "client")
    assert (asked[3]["reason"], asked[3]["fallback"]) == ("timeout", "let_claude")


def check_the_answers(lines: list[dict[str, Any]]) -> None:
    answers = [(line["response"], line["remember"]) for line in lines if line["event"] == "answer"]
    assert answers == [("ship", True), ("let_claude", False)]
    assert lines[-1] == {"event": "done"}


async def test_an_embedding_program_reports_a_skill_and_a_client_answers_it(
    tmp_path: Path, project_dir: Path, demos: list[asyncio.subprocess.Process]
) -> None:
    demo = await start_demo(
        demos,
        "embedded",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        "0",
        "--project",
        str(project_dir),
    )
    assert demo.stdout is not None
    ready = json.loads(await asyncio.wait_for(demo.stdout.readline(), 30))
    async with await SwitchboardClient.connect(ready["url"], ready["token"]) as client:
        assert client.snapshot["scope"] == "full"
        events = await watch_and_answer(client, ready["project"])
    check_the_story(events, producer="embedded")
    check_the_answers([ready, *await lines_of(demo)])


@pytest.fixture
def server(servers: ServerFactory) -> RunningServer:
    return servers.start(FAKE_AGENT, record_spawns=False)


async def scoped_token(admin: SwitchboardClient, name: str, *projects: str) -> str:
    ack = await admin.request("token.create", name=name, projects=list(projects) or None)
    assert ack["token"]["scope"] == "produce" and ack["secret"].startswith("sbp_")
    return str(ack["secret"])


async def watched_project_and_token(admin: SwitchboardClient, path: Path) -> tuple[str, str]:
    """Add and subscribe to a project; make a token for every project."""
    project = str((await add_and_watch(admin, path))["id"])
    return project, await scoped_token(admin, "bot")


async def test_a_producer_process_with_a_scoped_token_does_the_same_over_websocket(
    server: RunningServer, project_dir: Path, demos: list[asyncio.subprocess.Process]
) -> None:
    async with await connect(server) as admin:
        project = (await admin.add_project(str(project_dir)))["id"]
        token = await scoped_token(admin, "deploy-bot", project)
        demo = await start_demo(
            demos, "remote", "--server", server.url, "--token", token, "--project", str(project_dir)
        )
        events = await watch_and_answer(admin, project)
        check_the_story(events, producer="deploy-bot")
        check_the_answers(await lines_of(demo))
        listed = (await admin.request("token.list"))["tokens"]
        assert [(t["name"], t["projects"]) for t in listed] == [("deploy-bot", [project])]


async def test_a_producer_token_may_publish_and_ask_but_nothing_else(
    server: RunningServer, project_dir: Path, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    async with await connect(server) as admin:
        project = (await admin.add_project(str(project_dir)))["id"]
        other = (await admin.add_project(str(other_dir)))["id"]
        token = await scoped_token(admin, "bot", project)
        await admin.subscribe(project)
        async with await SwitchboardClient.connect(server.url, token) as producer:
            snapshot = producer.snapshot
            assert snapshot["scope"] == "produce"
            assert [p["id"] for p in snapshot["projects"]] == [project]
            asked = await producer.request(
                "confirmation.request",
                project=project,
                skill_id="s",
                step_index=0,
                prompt="Go?",
                options=["go"],
            )
            confirmation = asked["confirmation"]["id"]
            refused = {
                "subscribe": {"project": project},
                "prompt": {"project": project, "text": "hi"},
                "confirmation_response": {"confirmation_id": confirmation, "response": "go"},
                "pause_timer": {"confirmation_id": confirmation},
                "project.add": {"path": str(other_dir)},
                "token.create": {"name": "more"},
            }
            for kind, fields in refused.items():
                with pytest.raises(RequestError) as error:
                    await producer.request(kind, **fields)
                assert error.value.code == "forbidden", kind
            event = {"type": "skill_started", "skill_id": "s", "name": "n", "total_steps": 1}
            with pytest.raises(RequestError, match="unknown_project"):  # as if not there
                await producer.request("skill.event", project=other, event=event)
            with pytest.raises(RequestError, match="bad_message"):
                await producer.request("skill.event", project=project, event={"type": "nope"})
            with pytest.raises(RequestError, match="bad_message"):
                await producer.request(
                    "confirmation.request",
                    project=project,
                    skill_id="s",
                    step_index=0,
                    prompt="Go?",
                    options=[],
                )
            await producer.request("skill.event", project=project, event=event)
            third_dir = tmp_path / "third"
            third_dir.mkdir()
            await admin.add_project(str(third_dir))  # status goes out before the ack
            assert await producer.heartbeat() > 0  # the connection goes on
            assert producer._inbox.qsize() == 0  # and it heard nothing of other projects
            await admin.answer(confirmation, "go")
            result = await producer.confirmation_result(confirmation)
            assert (result["response"], result["remember"], result["expired"]) == (
                "go",
                False,
                False,
            )
        with pytest.raises(websockets.InvalidStatus) as status:  # /ws only
            await websockets.connect(f"{server.ws_url.removesuffix('/ws')}/ws/claude?token={token}")
        assert status.value.response.status_code == 403
        assert await admin.heartbeat() > 0  # the admin was not disturbed


async def test_answers_for_a_skill_must_be_valid_and_in_time(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin, await connect(server) as bystander:
        project = (await admin.add_project(str(project_dir)))["id"]
        fields = {"project": project, "skill_id": "s", "step_index": 0, "prompt": "Go?"}

        async def ask(timeout_seconds: float) -> str:
            asked = await admin.request(
                "confirmation.request",
                **fields,
                options=["go", "stop"],
                timeout_seconds=timeout_seconds,
            )
            return str(asked["confirmation"]["id"])

        confirmation = await ask(600)  # in time, however slow the machine: only bad answers
        with pytest.raises(RequestError, match="not_subscribed"):
            await bystander.answer(confirmation, "go")
        await admin.subscribe(project)
        with pytest.raises(RequestError, match="invalid_option"):
            await admin.answer(confirmation, "allow")
        with pytest.raises(RequestError, match="unknown_confirmation"):
            await admin.answer("no-such-id", "go")
        await admin.answer(confirmation, "stop")
        assert (await admin.confirmation_result(confirmation))["response"] == "stop"
        late = await ask(0.5)
        result = await admin.confirmation_result(late)
        assert (result["response"], result["expired"]) == ("let_claude", True)
        for answered in (confirmation, late):
            with pytest.raises(RequestError, match="already_answered"):
                await admin.answer(answered, "go")
        assert await bystander.heartbeat() > 0


async def test_a_producer_that_leaves_withdraws_its_question_and_fails_its_skill(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin:
        project, token = await watched_project_and_token(admin, project_dir)
        producer = await SwitchboardClient.connect(server.url, token)
        event = {"type": "skill_started", "skill_id": "s", "name": "n", "total_steps": 2}
        await producer.request("skill.event", project=project, event=event)
        fields = {"project": project, "skill_id": "s", "step_index": 0, "prompt": "Go?"}
        asked = await producer.request("confirmation.request", **fields, options=["go"])
        async with await connect(server) as late:
            subscribed = await late.request("subscribe", project=project)
            assert [s["skill_id"] for s in subscribed["running_skills"]] == ["s"]
            assert [c["id"] for c in subscribed["pending_confirmations"]] == [
                asked["confirmation"]["id"]
            ]
        await producer.close()
        endings: list[dict[str, Any]] = []
        async with asyncio.timeout(30):
            async for message in admin.messages():
                data = message.get("data") or {}
                if data.get("type") in ("confirmation_expired", "skill_failed"):
                    endings.append(data)
                if len(endings) == 2:
                    break
        by_type = {d["type"]: d for d in endings}
        assert by_type["confirmation_expired"]["reason"] == "withdrawn"
        assert by_type["skill_failed"]["error"] == "the producer disconnected"
        async with await connect(server) as late:
            assert late.snapshot["running_skills"] == []
            assert late.snapshot["pending_confirmations"] == []


async def drain(client: SwitchboardClient) -> None:
    """Read until the connection closes (which raises ConnectionLost)."""
    async for _ in client.messages():
        pass


async def test_revoking_a_token_closes_its_connections_and_refuses_it(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin:
        await admin.add_project(str(project_dir))
        ack = await admin.request("token.create", name="bot")
        with pytest.raises(RequestError, match="name_taken"):
            await admin.request("token.create", name="bot")
        with pytest.raises(RequestError, match="name_invalid"):  # the server's own label
            await admin.request("token.create", name="embedded")
        producer = await SwitchboardClient.connect(server.url, ack["secret"])
        await admin.request("token.revoke", token=ack["token"]["id"])
        with pytest.raises(ConnectionLost) as lost:
            await asyncio.wait_for(drain(producer), 10)
        assert lost.value.close_code == 4003
        with pytest.raises(websockets.InvalidStatus) as status:
            await SwitchboardClient.connect(server.url, ack["secret"])
        assert status.value.response.status_code == 401
        with pytest.raises(RequestError, match="unknown_token"):
            await admin.request("token.revoke", token=ack["token"]["id"])
        assert (await admin.request("token.list"))["tokens"] == []


async def test_a_producer_withdraws_a_question_it_no_longer_needs(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin:
        project, token = await watched_project_and_token(admin, project_dir)
        async with await RemoteProducer.connect(server.url, token) as producer:
            skills = producer.skills(project)
            asking = asyncio.create_task(skills.request_confirmation("s", 0, "Go?", ["go"]))
            asked = await next_event(admin, "confirmation_required")
            asking.cancel()
            expired = await next_event(admin, "confirmation_expired")
            assert (expired["confirmation_id"], expired["reason"]) == (
                asked["confirmation"]["id"],
                "withdrawn",
            )
            with pytest.raises(asyncio.CancelledError):
                await asking
            with pytest.raises(RequestError, match="unknown_confirmation"):
                await producer.request(
                    "confirmation.withdraw", confirmation_id=asked["confirmation"]["id"]
                )


async def test_one_connection_may_have_only_so_many_questions_waiting(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin:
        project = (await admin.add_project(str(project_dir)))["id"]
        fields = {"project": project, "skill_id": "s", "step_index": 0, "prompt": "Go?"}
        for _ in range(MAX_PENDING_PER_CONNECTION):
            await admin.request("confirmation.request", **fields, options=["go"])
        with pytest.raises(RequestError, match="too_many_pending"):
            await admin.request("confirmation.request", **fields, options=["go"])
        async with await connect(server) as other:  # a limit per connection
            await other.request("confirmation.request", **fields, options=["go"])


async def test_removing_a_project_ends_the_questions_asked_in_it(
    server: RunningServer, project_dir: Path
) -> None:
    async with await connect(server) as admin:
        project = (await admin.add_project(str(project_dir)))["id"]
        fields = {"project": project, "skill_id": "s", "step_index": 0, "prompt": "Go?"}
        asked = await admin.request("confirmation.request", **fields, options=["go"])
        await admin.remove_project(project)
        result = await admin.confirmation_result(asked["confirmation"]["id"])
        assert (result["response"], result["expired"]) == ("let_claude", True)
        async with await connect(server) as late:
            assert late.snapshot["pending_confirmations"] == []


async def test_a_restart_closes_the_questions_and_skills_a_crash_left_open(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(FAKE_AGENT, *data, record_spawns=False)
    async with await connect(server) as admin:
        project = (await admin.add_project(str(project_dir)))["id"]
        for skill in ("ended", "running"):
            started = {"type": "skill_started", "skill_id": skill, "name": skill, "total_steps": 1}
            await admin.request("skill.event", project=project, event=started)
        ended = {"type": "skill_completed", "skill_id": "ended", "duration_ms": 5}
        await admin.request("skill.event", project=project, event=ended)
        fields = {"project": project, "skill_id": "running", "step_index": 0, "prompt": "Go?"}
        asked = await admin.request("confirmation.request", **fields, options=["go"])
        server.process.send_signal(signal.SIGKILL)  # while the asker still waits
        server.process.wait(10)
    again = servers.start(FAKE_AGENT, *data, record_spawns=False)
    async with await connect(again) as viewer:
        assert viewer.snapshot["pending_confirmations"] == []
        assert viewer.snapshot["running_skills"] == []
        await viewer.subscribe(project, since=0)
        expired = await next_event(viewer, "confirmation_expired")
        failed = await next_event(viewer, "skill_failed")
        head = (await viewer.projects())[0]["head"]
    assert expired["confirmation_id"] == asked["confirmation"]["id"]
    assert (expired["reason"], expired["fallback"]) == ("server_restart", "let_claude")
    # Only the skill that was still running is ended, once, by the server's restart.
    assert (failed["skill_id"], failed["producer"]) == ("running", "server token")
    assert failed["error"] == "the server stopped while this skill was running"
    assert head == 6  # 3 skill events, the question, its expiry, the one skill_failed
    assert again.stop() == 0
    restarted_again = servers.start(FAKE_AGENT, *data, record_spawns=False)
    async with await connect(restarted_again) as viewer:
        assert (await viewer.projects())[0]["head"] == head  # nothing left to close
