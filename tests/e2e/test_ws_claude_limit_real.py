"""/ws/claude runs at most --max-claude-runs CLIs at once: the real CLI (both builds),
held at a scripted-model gate while another prompt arrives."""

import asyncio
import json
import time
from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.neighbour import Neighbour
from tests.support.server import RunningServer, RunTranscript, collect, run_prompt

# /ws/claude keeps nothing in the store: these run on SQLite only.
pytestmark = [pytest.mark.real_cli, pytest.mark.timeout(120), pytest.mark.sqlite_only]

HELD = Script.of({"hold": "first", "text": "First done."}, {"text": "Second done."})


async def start_held(
    server: RunningServer, model: ScriptedModelServer
) -> asyncio.Task[RunTranscript]:
    """A run whose model reply is held at the gate ``first``, once it has reached it."""
    first = asyncio.ensure_future(run_prompt(server, "first", "FIRST"))
    assert await asyncio.to_thread(model.wait_for_requests, 1, 60)
    return first


async def test_a_prompt_over_the_limit_is_refused_with_1013_after_its_wait(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    scripted_model: ScriptedModelServer,
    project_dir: Path,
) -> None:
    scripted_model.set_script(HELD)
    server = servers.start(
        claude_bin.path, "--max-claude-runs", "1", "--claude-queue-timeout", "0.5"
    )
    neighbour = await Neighbour.join(server, project_dir)
    try:
        first = await start_held(server, scripted_model)
        refused = await asyncio.wait_for(run_prompt(server, "second", "SECOND"), 30)
        assert (refused.close_code, refused.close_reason) == (
            1013,
            "busy: --max-claude-runs 1 reached; try again later",
        )
        assert refused.frames == []  # nothing ran: no CLI line, no error frame
        assert [line.split()[1] for line in servers.spawned()] == ["FIRST"]
        await neighbour.check()
        scripted_model.release("first")
        done = await asyncio.wait_for(first, 60)
        assert (done.close_code, done.result["result"]) == (1000, "First done.")
        # The slot is free again.
        again = await asyncio.wait_for(run_prompt(server, "third", "THIRD"), 60)
        assert (again.close_code, again.result["result"]) == (1000, "Second done.")
    finally:
        await neighbour.close()
    assert "no run slot free within 0.5 s" in server.log()


async def test_a_prompt_over_the_limit_waits_for_a_free_slot(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    scripted_model: ScriptedModelServer,
    project_dir: Path,
) -> None:
    scripted_model.set_script(HELD)
    server = servers.start(
        claude_bin.path, "--max-claude-runs", "1", "--claude-queue-timeout", "60"
    )
    neighbour = await Neighbour.join(server, project_dir)
    first = await start_held(server, scripted_model)
    async with server.connect() as ws:
        assert json.loads(await ws.recv()) == {"info": "send {prompt,meta}"}
        await ws.send(json.dumps({"prompt": "second", "meta": "SECOND"}))
        # While the first run holds the only slot, the second's CLI does not start: its
        # model request never comes.
        assert not await asyncio.to_thread(scripted_model.wait_for_requests, 2, 3)
        await neighbour.check()
        released = time.time()
        scripted_model.release("first")
        second = await asyncio.wait_for(collect(ws), 60)
    done = await asyncio.wait_for(first, 60)
    assert (done.close_code, done.result["result"]) == (1000, "First done.")
    assert (second.close_code, second.result["result"]) == (1000, "Second done.")
    [_, second_request] = scripted_model.conversation_requests
    assert second_request.time > released
    assert [line.split()[1] for line in servers.spawned()] == ["FIRST", "SECOND"]
    await neighbour.check()
    await neighbour.close()
