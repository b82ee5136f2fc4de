"""Runs on a remote agent, with the real Claude Code CLI against the scripted model: the
hub and ``switchboard agent`` are separate processes with their own HOME and data, and
the project's directory is the agent's. The CLI runs where the agent is; every line of
it reaches the hub's clients."""

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.agents import HEARTBEATS, agents, status_until
from tests.support.hub import connect, follow, next_event
from tests.support.netns import agent_namespace, namespace_problem
from tests.support.proxy import holding_proxy
from tests.support.remote_runs import linked_agent, remote_root, result_spooled, stored_view
from tests.support.server import RunningServer
from tests.support.turns import TOUCH

pytestmark = pytest.mark.timeout(180)

__all__ = ["agents", "remote_root"]


async def runs_told(client: SwitchboardClient) -> list[list[str]]:
    """The agent's runs under way, as each ``agent_status`` says, until one came and went."""
    told: list[list[str]] = []
    async with asyncio.timeout(60):
        async for message in client.messages():
            if message["type"] == "agent_status":
                told.append(message["agent"]["running_runs"])
                if len(told) > 1 and not told[-1]:
                    return told
    raise AssertionError("the connection closed")


async def test_a_prompt_runs_on_the_agent_streams_to_two_clients_and_asks_for_permission(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Hello from the laptop."}, {"tool_use": TOUCH}, {"text": "Made it."})
    )
    # The hub's own CLI is a fake that fails: only the agent's real one can answer.
    hub_root = tmp_path / "hub-only"
    hub_root.mkdir()
    server = servers.start(FAKE_AGENT, allowed_root=hub_root, record_spawns=False)
    async with await connect(server) as first, await connect(server) as second:
        await linked_agent(server, first, agents, claude_bin.path, claude_env, remote_root)
        project = await first.add_project(str(remote_root / "app"), None, "laptop")
        assert (project["agent"], project["agent_online"]) == ("laptop", True)
        assert project["path"] == str((remote_root / "app").resolve())
        for client in (first, second):
            await client.subscribe(project["id"])
        async with await connect(server) as watcher:  # agent_status as the run comes and goes
            told = asyncio.ensure_future(runs_told(watcher))
            run = await first.prompt(project["id"], "Say hello")
            seen_first, seen_second = await asyncio.gather(
                follow(first, run["id"]), follow(second, run["id"])
            )
            assert await told == [[run["id"]], []]
        assert seen_first.events == seen_second.events
        assert seen_first.seqs == list(range(1, len(seen_first.seqs) + 1))
        assert seen_first.final["state"] == "completed", seen_first.final
        texts = [
            block.get("text")
            for event in seen_first.events
            if event["kind"] == "cli" and event["data"]["type"] == "assistant"
            for block in event["data"]["message"]["content"]
        ]
        assert "Hello from the laptop." in texts

        asking = await first.prompt(project["id"], "Create the file")
        required = await next_event(second, "confirmation_required")
        assert required["confirmation"]["tool_name"] == "Bash"
        async with await connect(server) as viewer:  # the agent, with its work under way
            [laptop] = viewer.snapshot["agents"]
        assert (laptop["projects"], laptop["running_runs"]) == ([project["id"]], [asking["id"]])
        await second.answer(required["confirmation"]["id"], "allow")
        done = await follow(first, asking["id"])
        assert done.final["state"] == "completed", done.final
    assert (remote_root / "app" / "created.txt").exists()  # the agent's CLI ran it there


async def test_remote_runs_queue_and_cancel_and_bad_paths_are_refused_by_the_agent(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    scripted_model.set_script(
        Script.of({"text": words, "chunk_delay": 0.05}, {"text": "Second one."})
    )
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as client:
        await linked_agent(server, client, agents, bundled_claude_bin.path, claude_env, remote_root)
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        for path, code in (
            (str(outside), "outside_roots"),
            (str(remote_root / "missing"), "not_found"),
        ):
            with pytest.raises(RequestError) as refused:
                await client.add_project(path, None, "laptop")
            assert refused.value.code == code, refused.value
        with pytest.raises(RequestError) as unknown:
            await client.add_project(str(remote_root / "app"), None, "desktop")
        assert unknown.value.code == "unknown_agent"

        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        (remote_root / "app" / "sub").mkdir()
        for inner, code in (
            (remote_root / "app", "duplicate"),
            (remote_root / "app" / "sub", "nested"),
        ):
            with pytest.raises(RequestError) as refused:  # nesting is checked per machine
                await client.add_project(str(inner), "other", "laptop")
            assert refused.value.code == code, refused.value
        # The same path on the hub's own machine is another directory: no clash.
        here = await client.add_project(str(remote_root / "app"), "hub-app")
        assert here["agent"] is None and here["agent_online"] is None
        await client.subscribe(project["id"])
        long_run = await client.prompt(project["id"], "Count to two hundred")
        queued = await client.prompt(project["id"], "Then say one thing")
        assert queued["state"] == "queued"
        async with asyncio.timeout(60):
            async for message in client.messages():
                if message["type"] == "delta":
                    break  # the long reply is streaming from the agent's CLI
        await client.cancel(project["id"], long_run["id"])
        seen = await follow(client, long_run["id"], queued["id"])
        states = seen.run_states(long_run["id"])
        assert states[-1] == "cancelled", states
        assert seen.run_states(queued["id"])[-1] == "completed"


async def test_a_prompt_to_an_offline_agents_project_waits_for_the_agent(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
) -> None:
    scripted_model.set_script(Script.of({"text": "Back again."}))
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as client:
        agent = await linked_agent(
            server, client, agents, bundled_claude_bin.path, claude_env, remote_root
        )
        project = await client.add_project(str(remote_root / "app"), None, "laptop")
        await client.subscribe(project["id"])
        agent.send_signal(signal.SIGTERM)
        await status_until(client, False, timeout=15)
        run = await client.prompt(project["id"], "Anyone there?")
        [waiting] = [p for p in await client.projects() if p["id"] == project["id"]]
        shown = (waiting["agent_online"], waiting["queued"], waiting["status"])
        assert shown == (False, 1, "idle")
        back_at = time.time()
        await linked_again(server, client, agents, bundled_claude_bin, claude_env, remote_root)
    async with await connect(server) as reader:  # the run's whole story, from the log
        await reader.subscribe(project["id"])
        seen = await follow(reader, run["id"])
    assert seen.run_states(run["id"]) == ["queued", "running", "completed"]
    assert seen.final["started_at"] >= back_at  # it waited for the agent: never started before


async def linked_again(
    server: RunningServer,
    client: SwitchboardClient,
    agents: Callable[..., Any],
    claude: ClaudeBinary,
    claude_env: dict[str, str],
    root: Path,
) -> None:
    """Start the agent laptop once more, with a new token (the old one revoked)."""
    [old] = [t for t in (await client.request("token.list"))["tokens"] if t["name"] == "laptop"]
    await client.request("token.revoke", token=old["id"])
    await linked_agent(server, client, agents, claude.path, claude_env, root)


async def test_a_run_goes_on_through_a_silent_network_cut_and_loses_nothing(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    tmp_path: Path,
) -> None:
    """The agent in its own network namespace, its link to the hub through a proxy the
    test controls. A second run of the same script has its link go silent (no FIN, no
    RST) mid-stream for longer than the heartbeat timeout, finishes on the agent while
    the link is down (its result waits in the spool), and reaches the hub once the link
    is back: its stored events are those of the run that was never cut, with no seq
    missing or twice."""
    problem = namespace_problem()
    if problem is not None:
        pytest.skip(f"no network namespace for the agent: {problem}")
    words = " ".join(f"word{i}" for i in range(40))
    turn = {"text": words, "chunk_delay": 0.05}
    scripted_model.set_script(Script.of(turn, turn))
    with agent_namespace() as namespace:
        flags = [*HEARTBEATS, "--allowed-host", namespace.host_ip]
        server = servers.start(FAKE_AGENT, *flags, record_spawns=False)
        model_port = int(scripted_model.url.rsplit(":", 1)[1].split("/")[0])
        async with (
            holding_proxy(server.port, host=namespace.host_ip) as (hub_link, url),
            holding_proxy(model_port, host=namespace.host_ip) as (_, model_url),
            await connect(server) as client,
        ):
            secret = (await client.request("token.create", name="far", scope="agent"))["secret"]
            cli = ["--claude-bin", str(bundled_claude_bin.path)]
            cli_env = {k: v for k, v in claude_env.items() if k != "HOME"}
            cli_env["ANTHROPIC_BASE_URL"] = model_url  # the model, seen from the namespace
            spool = tmp_path / "far-data" / "spool.sqlite"
            await agents(
                server,
                secret,
                "--allowed-root",
                str(remote_root),
                "--data-dir",
                str(spool.parent),
                *cli,
                url=url,
                prefix=namespace.exec_prefix(),
                env=cli_env,
            )
            await status_until(client, True, timeout=30)
            project = await client.add_project(str(remote_root / "app"), None, "far")
            await client.subscribe(project["id"])
            first = await client.prompt(project["id"], "Count")
            uncut = await follow(client, first["id"])

            second = await client.prompt(project["id"], "Count again")
            async with asyncio.timeout(60):
                async for message in client.messages():
                    if message["type"] == "delta" and message["run"] == second["id"]:
                        break  # streaming from the agent's CLI: cut it off now
            hub_link.freeze()  # the hub's link goes silent; the model stays reachable
            await status_until(client, False, timeout=15)  # the heartbeats went unanswered
            async with asyncio.timeout(60):  # the reply ends on the agent meanwhile:
                while not result_spooled(spool):  # its result line waits in the spool
                    await asyncio.sleep(0.1)
            hub_link.restore()
            cut = await follow(client, second["id"], timeout=90)
            async with await connect(server) as late:  # the log, read back from scratch
                await late.subscribe(project["id"])
                replayed = await follow(late, second["id"])
    assert cut.final["state"] == "completed", cut.final
    live = stored_view(cut, second["id"])  # from the cut on (what came before was read)
    assert len(live) >= 3 and stored_view(uncut, first["id"])[-len(live) :] == live
    assert stored_view(replayed, second["id"]) == stored_view(uncut, first["id"])
    seqs = replayed.seqs
    assert seqs == list(range(1, len(seqs) + 1))  # no gap, nothing twice
