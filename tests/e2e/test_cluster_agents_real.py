"""A remote agent on a cluster of three hub nodes (one PostgreSQL, one Redis), running
the real CLI against the scripted model. Its projects run on the node it is linked to:

- a project added on another node is added by the agent's node;
- when the agent links to another node (it restarted, given only that node), that node
  takes its project from the live owner;
- when the node it is linked to is killed mid-run (kill -9), the agent dials the next
  node, which takes the project over once the dead node's lease expires: the run goes
  on and completes (its stored events those of a run never interrupted), with no gap
  and nothing twice, and the next prompt resumes the session.
"""

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.agents import HEARTBEATS, agents, status_until
from tests.support.cluster import start_nodes
from tests.support.hub import connect, follow
from tests.support.remote_runs import linked_agent, remote_root, stored_view, streaming

pytestmark = [pytest.mark.timeout(300), pytest.mark.postgresql_only]

__all__ = ["agents", "remote_root"]

WORDS = " ".join(f"word{i}" for i in range(100))
SLOW_TURN = {"text": WORDS, "chunk_delay": 0.05}
"""A reply that streams for about 5 s."""
LEASE = 12.0
"""Longer than what is left of the turn when its node is killed: the turn ends, and the
agent tells the next node of it, before that node may take the project over (it holds
what the agent says until then)."""


async def owned_by(client: SwitchboardClient, project_id: str, node: str) -> None:
    """Wait until the node ``client`` is on says ``node`` owns the project."""
    async with asyncio.timeout(LEASE * 3 + 20):
        while True:
            [listed] = [p for p in await client.projects() if p["id"] == project_id]
            if listed["node"] == node:
                return
            await asyncio.sleep(0.1)


async def test_an_agents_project_runs_where_the_agent_is_linked_and_goes_on_after_failover(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    agents: Callable[..., Any],
    remote_root: Path,
    store_url: str,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of(SLOW_TURN, {"text": "Moved along."}, SLOW_TURN, {"text": "Still here."})
    )
    one, two, three = start_nodes(
        servers, FAKE_AGENT, store_url, 3, *HEARTBEATS, record_spawns=False, lease_seconds=LEASE
    )
    cli = bundled_claude_bin.path
    home, data = tmp_path / "laptop-home", tmp_path / "laptop-data"
    flags = ("--data-dir", str(data))
    async with (
        await connect(one) as on_one,
        await connect(two) as on_two,
        await connect(three) as on_three,
    ):
        secret = (await on_one.request("token.create", name="laptop", scope="agent"))["secret"]
        first_agent = await linked_agent(
            one, on_one, agents, cli, claude_env, remote_root, *flags, secret=secret, home=home
        )
        await status_until(on_three, True)  # node 3 heard where it is linked
        # Added through node 3: the agent's node adds it, and owns it.
        project = await on_three.add_project(str(remote_root / "app"), None, "laptop")
        assert project["node"] == "node1"
        await on_three.subscribe(project["id"])
        first = await on_two.prompt(project["id"], "Count")
        uncut = await follow(on_three, first["id"], timeout=90)
        assert uncut.final["state"] == "completed", uncut.final
        session_id = uncut.final["session_id"]

        # The agent starts again, given only node 2: node 2 takes the project from node 1.
        first_agent.terminate()
        assert await first_agent.wait() == 0
        await linked_agent(
            two,
            on_two,
            agents,
            cli,
            claude_env,
            remote_root,
            *flags,
            secret=secret,
            home=home,
            url=f"{two.url},{three.url}",
        )
        await owned_by(on_three, project["id"], "node2")
        moved = await on_one.prompt(project["id"], "Still with me?")  # forwarded to node 2
        done = await follow(on_three, moved["id"], timeout=60)
        assert done.final["state"] == "completed", done.final
        assert done.final["session_id"] == session_id

        # Node 2 dies mid-run: the agent dials node 3, which takes the project over.
        second = await on_one.prompt(project["id"], "Count again")
        await streaming(on_three, second["id"])
        two.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        assert two.process.wait(10) == -9
        await owned_by(on_three, project["id"], "node3")
        took = time.monotonic() - killed_at
        assert took < LEASE * 2 + 5, f"failover took {took:.1f} s"
        third = await on_one.prompt(project["id"], "Are you there?")  # queued behind it

    async with await connect(three) as late, await connect(one) as watcher:
        await late.subscribe(project["id"])
        await watcher.subscribe(project["id"])
        went_on = await follow(late, second["id"], timeout=120)
        assert went_on.final["state"] == "completed", went_on.final
        assert stored_view(went_on, second["id"]) == stored_view(uncut, first["id"])
        after = await follow(late, third["id"], timeout=60)
        assert after.final["state"] == "completed", after.final
        assert after.final["session_id"] == session_id  # the session, resumed
        seqs = went_on.seqs + after.seqs
        assert seqs == list(range(1, len(seqs) + 1))  # no gap, nothing twice
        on_watcher = await follow(watcher, third["id"], timeout=30)
        assert on_watcher.events == went_on.events + after.events  # node 1 saw the same
