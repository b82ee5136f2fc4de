"""Three hub nodes on one PostgreSQL and one Redis, with the real CLI against the
scripted model: clients on one node prompt projects other nodes own, clients on
different nodes see identical events, and when an owner is killed (kill -9, its CLI
with it, as when its machine dies) another node takes its project over within the
lease time: the run under way ends ``interrupted``, the queued run runs there, the next
prompt resumes the session, and a client of the dead node resumes on a survivor with
``since``."""

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from switchboard.client import RequestError, SwitchboardClient
from switchboard.cluster.redis_link import RedisLink
from switchboard.exceptions import RequestRefused
from switchboard.scripted_model import Script, ScriptedModelServer
from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.leases import read_cluster_id
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.cluster import LEASE_SECONDS, REDIS_URL, project_on, start_nodes, when_known
from tests.support.hub import connect, follow, prompt_and_follow
from tests.support.push_service import PushReceiver
from tests.support.server import RunningServer

pytestmark = [pytest.mark.timeout(240), pytest.mark.postgresql_only]


async def hostile_calls_are_refused(store_url: str, revoked: str, project: str) -> None:
    """Call node 1 over the cluster's Redis as a node would, with bodies no node
    sends: each gets a clear refusal, and nothing is done."""
    engine = open_engine(store_url)
    try:
        cluster_id = await asyncio.to_thread(read_cluster_id, engine)
    finally:
        engine.dispose()
    link = RedisLink(REDIS_URL, "intruder", cluster_id)

    async def nothing(_kind: str, _body: dict[str, Any]) -> dict[str, Any]:
        return {}

    await link.start(nothing, lambda _kind, _body: None)
    prompt = json.dumps({"type": "prompt", "id": 1, "project": project, "text": "x"})
    admin = {"scope": "full", "name": "x", "token_id": None, "projects": None, "role": "admin"}
    try:
        for body, code in (
            ({}, "bad_message"),
            ({"request": prompt, "grant": "all of it"}, "bad_message"),
            ({"request": "not json", "grant": admin}, "bad_json"),
            ({"request": prompt, "grant": {**admin, "token_id": revoked}}, "forbidden"),
        ):
            with pytest.raises(RequestRefused) as refused:
                await link.call("node1", "request", body, 10)
            assert refused.value.code == code, body
        for release in (
            {},  # names nothing
            {"project": project, "node": "node1"},  # to itself
            {"project": project, "node": "intruder"},  # to no node alive
            {"project": project, "node": "node2"},  # not a project on an agent
        ):
            with pytest.raises(RequestRefused) as refused:
                await link.call("node1", "release", release, 10)
            assert refused.value.code == "bad_message", release
        with pytest.raises(RequestRefused) as other_kind:
            await link.call("node1", "shutdown", {}, 10)
        assert other_kind.value.code == "node_unavailable"
    finally:
        await link.close()


async def test_three_nodes_serve_every_project_and_take_over_a_dead_owners(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    store_url: str,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of(
            {"text": "Noted: PLUM."},
            {"text": "Hello from node three's project."},
            {"text": "Never sent.", "delay": 60},
            {"text": "Queued, and done on the new owner."},
            {"text": "The fruit was PLUM."},
        )
    )
    one, two, three = start_nodes(servers, bundled_claude_bin.path, store_url, 3)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    async with (
        await connect(one) as on_one,
        await connect(two) as on_two,
        await connect(three) as on_three,
    ):
        alpha = await on_one.add_project(str(project_dir), "alpha")
        beta = await on_three.add_project(str(other_dir), "beta")
        assert (alpha["node"], beta["node"]) == ("node1", "node3")  # added there, owned there
        assert (await project_on(on_two, "alpha"))["node"] == "node1"
        await on_one.subscribe("alpha")
        await on_two.subscribe("alpha")

        # A client of node 2 prompts node 1's project; clients of both see the same.
        first = await on_two.prompt("alpha", "Remember PLUM")
        seen_one, seen_two = await asyncio.gather(
            follow(on_one, first["id"]), follow(on_two, first["id"])
        )
        assert seen_one.final["state"] == "completed"
        assert seen_one.events == seen_two.events
        assert seen_two.seqs == list(range(1, len(seen_two.seqs) + 1))
        assert seen_two.deltas > 0  # live token deltas crossed nodes too

        # A client of node 1 prompts node 3's project.
        await project_on(on_one, "beta")
        await on_one.subscribe("beta")
        far = await on_one.prompt("beta", "hello")
        assert (await follow(on_one, far["id"])).final["state"] == "completed"

        # Node 1 dies mid-run, with its CLI (its machine is gone).
        doomed = await on_two.prompt("alpha", "hang")
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 3, 30)
        queued = await on_one.prompt("alpha", "queued behind it")
        clis = [s["pid"] for s in servers.spawned_argv() if s["cwd"] == str(project_dir)]
        one.process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        one.process.wait(10)
        for pid in clis:
            if processes.alive(pid):
                os.killpg(pid, signal.SIGKILL)
        ended = await follow(on_two, doomed["id"], timeout=LEASE_SECONDS * 4 + 30)
        took = time.monotonic() - killed_at
        assert ended.final["state"] == "interrupted"
        assert took < LEASE_SECONDS * 2 + 5, f"failover took {took:.1f} s"
        went_on = await follow(on_two, queued["id"])  # the queue goes on there
        assert went_on.final["state"] == "completed"
        new_owner = (await project_on(on_three, "alpha"))["node"]
        assert new_owner in ("node2", "node3")

        # The next prompt runs on the new owner and resumes the session.
        after = await prompt_and_follow(on_two, "alpha", "What fruit?")
        assert after.final["state"] == "completed"
        assert after.final["session_id"] == seen_one.final["session_id"]
        assert "PLUM" in scripted_model.conversation_requests[-1].text()
        everything = seen_two.events + ended.events + went_on.events + after.events
        assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))

        # A client of the dead node resumes on a survivor: no gap, no duplicate.
        async with await connect(three) as back:
            await back.subscribe("alpha", since=seen_one.seqs[-1])
            resumed = await follow(back, after.final["id"])
        assert resumed.events == ended.events + went_on.events + after.events


async def test_what_one_node_changes_every_node_knows_and_refusals_travel_back(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, store_url: str
) -> None:
    one, two = start_nodes(servers, bundled_claude_bin.path, store_url, 2)
    async with await connect(one) as on_one, await connect(two) as on_two:
        alpha = await on_one.add_project(str(project_dir), "alpha")
        await project_on(on_two, "alpha")

        # The owner's refusal comes back as it gave it, through the node asked.
        with pytest.raises(RequestError) as refused:
            await on_two.cancel("alpha")
        assert refused.value.code == "nothing_to_cancel"
        with pytest.raises(RequestError) as unknown:
            await on_two.answer("no-such-confirmation", "allow")
        assert unknown.value.code == "unknown_confirmation"
        with pytest.raises(RequestError) as remote:
            await on_two.request("project.add", path="/x", agent="somewhere")
        assert remote.value.code == "unknown_agent"  # (no agent of that name linked anywhere)

        # A producer's traffic stays with the owner's connections.
        produced = await on_one.request("token.create", name="ci", projects=[alpha["id"]])
        started = {"type": "skill_started", "skill_id": "s1", "name": "lint", "total_steps": 1}
        producer = await when_known(lambda: SwitchboardClient.connect(two.url, produced["secret"]))
        async with producer:
            with pytest.raises(RequestError) as elsewhere:
                await producer.request("skill.event", project="alpha", event=started)
        assert elsewhere.value.code == "not_owner" and "node1" in str(elsewhere.value)

        # A token made on one node opens the others; revoked there, it closes here.
        made = await on_one.request("token.create", name="watcher", scope="viewer")
        watcher = await when_known(
            lambda: websockets.connect(f"{two.ws_url}/ws?token={made['secret']}")
        )
        assert json.loads(await watcher.recv())["type"] == "connected"
        await on_one.request("token.revoke", token=made["token"]["id"])
        async with asyncio.timeout(10):
            await watcher.wait_closed()
        assert watcher.close_code == 4003
        with pytest.raises(websockets.InvalidStatus):
            await websockets.connect(f"{two.ws_url}/ws?token={made['secret']}")

        # What arrives on a node's channel that is no forwarded request is refused.
        await hostile_calls_are_refused(store_url, made["token"]["id"], alpha["id"])
        owners = {p["name"]: p["node"] for p in await on_one.projects()}
        assert owners["alpha"] == "node1"  # node 1 serves on, and gave nothing up

        # Removed on its owner, a project goes from every node.
        await on_two.remove_project("alpha")  # passed to node 1, which owns it
        async with asyncio.timeout(10):
            while any(
                p["name"] == "alpha" for p in await on_one.projects() + await on_two.projects()
            ):
                await asyncio.sleep(0.1)


async def crossed(client: SwitchboardClient, other: RunningServer, name: str) -> None:
    """Wait until what ``client``'s node told the others so far has reached ``other``:
    a node's news go out in order, so once a token made after them opens ``other``,
    they have arrived there."""
    made = await client.request("token.create", name=name, scope="viewer")
    probe = await when_known(lambda: SwitchboardClient.connect(other.url, made["secret"]))
    await probe.close()


async def test_a_person_watching_on_another_node_holds_the_owners_alerts_back(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    store_url: str,
) -> None:
    scripted_model.set_script(Script.of({"text": "Watched."}, {"text": "Unwatched."}))
    cluster = ["--database-url", store_url, "--redis-url", REDIS_URL]
    with PushReceiver() as webhook:
        owner = servers.start(
            bundled_claude_bin.path,
            *("--node-id", "owner", *cluster, "--notify-url", webhook.url("/hook")),
        )
        other = servers.start(bundled_claude_bin.path, "--node-id", "other", *cluster)
        async with await connect(owner) as on_owner, await connect(other) as on_other:
            await on_owner.add_project(str(project_dir), "alpha")
            await project_on(on_other, "alpha")
            await on_other.subscribe("alpha")
            await on_other.request("presence", projects=["alpha"], visible=True)
            await crossed(on_other, owner, "barrier-1")
            watched = await prompt_and_follow(on_other, "alpha", "one")
            await on_other.request("presence", projects=["alpha"], visible=False)
            await crossed(on_other, owner, "barrier-2")
            unwatched = await prompt_and_follow(on_other, "alpha", "two")
        alert = json.loads((await webhook.next(timeout=30)).body)
        assert (alert["kind"], alert["tag"]) == ("run_completed", unwatched.final["id"])
        assert webhook.taken() == []  # nothing for the run a person watched
        assert watched.final["state"] == "completed"
