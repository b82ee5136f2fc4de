"""The /ws hub with the real Claude Code CLI against the scripted model."""

import asyncio
import os
import signal
from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.hub import Followed, add_and_watch, connect, follow, prompt_and_follow

pytestmark = pytest.mark.timeout(180)


def text_turns(*texts: str, delay: float = 0.0) -> Script:
    return Script.of(*({"text": text, "delay": delay} for text in texts))


async def test_two_clients_see_identical_events_in_identical_order(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(text_turns("Hello from the model."))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as first, await connect(server) as second:
        project = await add_and_watch(first, project_dir)
        await second.subscribe(project["id"])
        run = await second.prompt(project["id"], "Say hello")
        seen_first, seen_second = await asyncio.gather(
            follow(first, run["id"]), follow(second, run["id"])
        )
    assert seen_first.events == seen_second.events
    assert seen_first.seqs == list(range(1, len(seen_first.seqs) + 1))
    assert seen_first.run_states(run["id"]) == ["queued", "running", "completed"]
    assert seen_first.cli_types()[0] == "system" and seen_first.cli_types()[-1] == "result"
    assert seen_first.final["num_turns"] == 1 and seen_first.final["session_id"]
    assert seen_first.deltas > 0  # token deltas arrive live, outside the seq numbering


async def test_a_client_that_reconnects_with_since_misses_nothing(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    # A reply streamed slowly, in many chunks: the run goes on while the client is away.
    words = " ".join(f"word{i}" for i in range(40))
    scripted_model.set_script(Script.of({"text": words, "chunk_delay": 0.05}))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as stayer:
        project = await add_and_watch(stayer, project_dir)
        leaver = await connect(server)
        await leaver.subscribe(project["id"])
        run = await stayer.prompt(project["id"], "Count words")
        before = Followed()
        async with asyncio.timeout(30):
            async for message in leaver.messages():
                if message["type"] == "event":
                    before.events.append(message)
                if message["type"] == "delta":
                    break  # the model has started answering: leave mid-run
        await leaver.close()
        await asyncio.sleep(0.5)  # the run goes on without it
        async with await connect(server) as returner:
            await returner.subscribe(project["id"], since=before.seqs[-1])
            after = await follow(returner, run["id"])
        stayed = await follow(stayer, run["id"])
    assert before.events + after.events == stayed.events
    assert stayed.final["state"] == "completed"


def resumed_ids(servers: ServerFactory) -> list[str | None]:
    """For each CLI spawn, the session it resumed (None: a new session)."""
    found: list[str | None] = []
    for spawn in servers.spawned_argv():
        resume = [a.split("=", 1)[1] for a in spawn["argv"] if a.startswith("--resume=")]
        found.append(resume[0] if resume else None)
    return found


async def test_a_second_prompt_continues_the_session_in_the_same_process(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(text_turns("First answer.", "Second answer."))
    server = servers.start(claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        first = await prompt_and_follow(client, project["id"], "Remember PINEAPPLE")
        second = await prompt_and_follow(client, project["id"], "What fruit?")
    assert first.final["state"] == second.final["state"] == "completed"
    assert first.final["session_id"] == second.final["session_id"]
    assert "PINEAPPLE" in scripted_model.conversation_requests[-1].text()
    assert resumed_ids(servers) == [None]  # one process served both runs


async def test_the_session_resumes_after_the_idle_process_was_stopped(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(text_turns("First answer.", "Second answer."))
    server = servers.start(bundled_claude_bin.path, "--idle-timeout", "0.3")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        first = await prompt_and_follow(client, project["id"], "Remember MANGO")
        first_pid = servers.spawned_argv()[0]["pid"]
        assert processes.wait_exited([first_pid], 20) == []
        second = await prompt_and_follow(client, project["id"], "What fruit?")
    session = first.final["session_id"]
    assert second.final["session_id"] == session
    assert resumed_ids(servers) == [None, session]
    assert "MANGO" in scripted_model.conversation_requests[-1].text()


async def test_projects_history_and_session_survive_a_restart(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(text_turns("First answer.", "Second answer."))
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(bundled_claude_bin.path, *data)
    async with await connect(server) as client:
        await add_and_watch(client, project_dir, name="kept")
        first = await prompt_and_follow(client, "kept", "Remember KIWI")
    assert server.stop() == 0

    again = servers.start(bundled_claude_bin.path, *data)
    async with await connect(again) as client:
        [listed] = client.snapshot["projects"]
        assert listed["name"] == "kept" and listed["session_id"] == first.final["session_id"]
        await client.subscribe("kept", since=0)
        history = await follow(client, first.final["id"])
        assert history.events == first.events
        second = await prompt_and_follow(client, "kept", "What fruit?")
    assert second.final["session_id"] == first.final["session_id"]
    assert resumed_ids(servers) == [None, first.final["session_id"]]
    assert "KIWI" in scripted_model.conversation_requests[-1].text()


async def test_runs_of_one_project_queue_while_two_projects_run_at_once(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    tmp_path: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"text": "Slow answer.", "delay": 1.5, "repeat": 10}))
    server = servers.start(bundled_claude_bin.path)
    (tmp_path / "alpha").mkdir()
    (tmp_path / "beta").mkdir()
    async with await connect(server) as client:
        alpha = await client.add_project(str(tmp_path / "alpha"))
        beta = await client.add_project(str(tmp_path / "beta"))
        await client.subscribe(alpha["id"])
        await client.subscribe(beta["id"])
        a1 = await client.prompt(alpha["id"], "one")
        a2 = await client.prompt(alpha["id"], "two")
        b1 = await client.prompt(beta["id"], "three")
        assert a2["state"] == "queued"
        seen = await follow(client, a1["id"], a2["id"], b1["id"])
    finals = {
        e["data"]["id"]: e["data"]
        for e in seen.events
        if e["kind"] == "run" and e["data"]["state"] == "completed"
    }
    first, second, other = finals[a1["id"]], finals[a2["id"]], finals[b1["id"]]
    assert second["started_at"] >= first["finished_at"]  # one at a time per project
    assert other["started_at"] < first["finished_at"]  # ...in parallel across projects
    assert first["started_at"] < other["finished_at"]


async def test_cancel_a_queued_run_and_a_running_one(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Too late.", "delay": 30}, {"text": "After the cancel."})
    )
    server = servers.start(bundled_claude_bin.path, "--interrupt-grace", "2")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        running = await client.prompt(project["id"], "take long")
        queued = await client.prompt(project["id"], "never runs")
        cancelled = await client.cancel(project["id"], queued["id"])
        assert cancelled["state"] == "cancelled"
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 1, 30)
        await client.cancel(project["id"])
        seen = await follow(client, running["id"], timeout=20)
        assert seen.final["state"] == "cancelled"
        assert seen.run_states(queued["id"]) == ["queued", "cancelled"]
        after = await prompt_and_follow(client, project["id"], "next")
    assert after.final["state"] == "completed"


async def test_a_server_killed_mid_run_recovers_on_restart(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "First."}, {"text": "Never sent.", "delay": 60}, {"text": "Third."})
    )
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(bundled_claude_bin.path, *data)
    async with await connect(server) as client:
        await add_and_watch(client, project_dir, name="survivor")
        first = await prompt_and_follow(client, "survivor", "Remember PLUM")
        doomed = await client.prompt("survivor", "hang")
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 2, 30)
    cli_pid = servers.spawned_argv()[-1]["pid"]
    assert processes.alive(cli_pid)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    assert processes.alive(cli_pid)  # orphaned: only the next server can stop it

    again = servers.start(bundled_claude_bin.path, *data)
    assert processes.wait_exited([cli_pid], 10) == []
    async with await connect(again) as client:
        [listed] = client.snapshot["projects"]
        assert listed["name"] == "survivor" and listed["status"] == "idle"
        await client.subscribe("survivor")
        history = await follow(client, doomed["id"])
        assert history.events[: len(first.events)] == first.events
        assert history.final["state"] == "interrupted"
        third = await prompt_and_follow(client, "survivor", "What fruit?")
    assert third.final["state"] == "completed"
    assert third.final["session_id"] == first.final["session_id"]
    assert "PLUM" in scripted_model.conversation_requests[-1].text()
    assert os.environ.get("SWITCHBOARD_TOKEN") is None


async def test_session_new_starts_a_fresh_session(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(text_turns("First answer.", "Second answer."))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        first = await prompt_and_follow(client, project["id"], "Remember FIG")
        renewed = await client.new_session(project["id"])
        assert renewed["session_id"] is None
        second = await prompt_and_follow(client, project["id"], "What fruit?")
    assert second.final["state"] == "completed"
    assert second.final["session_id"] != first.final["session_id"]
    assert [e["kind"] for e in second.events[:1]] == ["session"]
    assert "FIG" not in scripted_model.conversation_requests[-1].text()
    assert resumed_ids(servers) == [None, None]  # a new process, not resuming
