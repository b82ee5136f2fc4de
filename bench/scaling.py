"""Scaling benchmark: several hub nodes, and the store on PostgreSQL, each against its
baseline in the same run.

    ./scripts/bench scaling    (or: .venv/bin/python -m bench.scaling --subscribers 100,1000)

1. Fan-out across nodes. Two nodes of one cluster (``--node-id``) on a PostgreSQL
   database made for this run and the local Redis, with bench/hub_agent.py as their
   CLI; the project is owned by the first. In each round, N subscribers connect (from
   worker processes, as in bench/hub.py) either all to the first node (the baseline:
   one node) or half to each node, a prompt asks the agent for E lines, and the round
   lasts until every subscriber has all of them; then they disconnect, and the other
   layout has its round. Throughput is (E + 2) x N lines / seconds, best of
   ``--rounds``; the ratio is two nodes over one. On the second node the lines come
   through the doorbell and a read of the log, which costs it more per line than the
   owner's in-memory fan-out: two nodes pay off when the owner's CPU is what limits.
2. Replay. ``--replay-events`` events of one project are written with the store's own
classes twice: into a SQLite data dir, and into a PostgreSQL database created for this
run on the server at ``--postgres-url`` (dropped at the end, even after a failure).
Two hubs serve them at once, one per store, so that both are warm and share the
machine alike. In each of ``--rounds`` rounds one client (in a worker process, as in
bench/hub.py) subscribes with since=0 to each hub in turn and is timed until its
``caught_up``; every round checks that all events arrived. The ratio is SQLite's median
seconds over PostgreSQL's (below 1.0: PostgreSQL is slower). The hubs' CPU seconds per
replay are shown too.

"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.client_pool import ClientPool
from bench.hub import (
    BURST_QUEUE,
    CONNECT_TIMEOUT,
    REPLAY_LINE,
    REPLAY_TIMEOUT,
    ROUND_TIMEOUT,
    SLOWEST_RATE,
    TOKEN,
    WARMUP_EVENTS,
    FanoutWorker,
    HubProject,
    Server,
    checked,
    counts,
    events_for,
    hub_server,
    hub_ws,
)
from bench.processes import cpu_seconds
from switchboard.client import SwitchboardClient
from switchboard.store.offline import write_project
from switchboard.store.records import NewEvent, ProjectRecord

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
LAYOUTS = ("one node", "two nodes")
FILL_BATCH = 5000
STORES = ("sqlite", "postgresql")


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A database of this run's own on the server at ``admin_url``: its URL. Dropped
    afterwards (FORCE: a hub that did not stop in time does not keep it)."""
    name = f"switchboard_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


async def fill(data_dir: Path, project_dir: Path, events: int, database_url: str | None) -> str:
    """Store ``events`` events of one new project; its id."""

    def batches(_record: ProjectRecord) -> Iterator[list[NewEvent]]:
        for start in range(0, events, FILL_BATCH):
            yield [
                NewEvent("cli", REPLAY_LINE % (i, i))
                for i in range(start, min(events, start + FILL_BATCH))
            ]

    record, _head = await write_project(data_dir, project_dir, batches, "replay", database_url)
    return record.id


@dataclass
class StoreReplay:
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """The hub's CPU seconds per replay."""


async def run_replay(
    pool: ClientPool, tmp: Path, events: int, rounds: int, database_url: str
) -> dict[str, StoreReplay]:
    urls = {"sqlite": None, "postgresql": database_url}
    projects: dict[str, str] = {}
    for store, url in urls.items():
        print(f"replay: storing {events:,} events in {store} ...", flush=True)
        (tmp / store / "project").mkdir(parents=True)
        projects[store] = await fill(tmp / store / "data", tmp / store / "project", events, url)
    results = {store: StoreReplay() for store in STORES}
    with (
        hub_server(tmp / "sqlite" / "data", tmp / "sqlite-hub.log") as on_sqlite,
        hub_server(
            tmp / "postgresql" / "data",
            tmp / "postgresql-hub.log",
            ("--database-url", database_url),
        ) as on_postgresql,
    ):
        hubs = {"sqlite": on_sqlite, "postgresql": on_postgresql}
        print(f"replay: one client, since=0, {events:,} events, {rounds} rounds ...")
        for _ in range(rounds):
            for store, hub in hubs.items():
                command: dict[str, Any] = {
                    "op": "replay",
                    "url": hub_ws(hub),
                    "project": projects[store],
                    "timeout": REPLAY_TIMEOUT,
                }
                cpu = cpu_seconds(hub.pid)
                reply = await pool.call(0, command, REPLAY_TIMEOUT + 10)
                results[store].seconds.append(checked(reply, events))
                results[store].cpu.append(cpu_seconds(hub.pid) - cpu)
    return results


# -- 1. fan-out across nodes -------------------------------------------------------------------


@dataclass
class SpreadResult:
    subscribers: int
    events: int
    seconds: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LAYOUTS})

    def rate(self, layout: str) -> float:
        return (self.events + 2) * self.subscribers / min(self.seconds[layout])


def node_args(node: str, database_url: str, redis_url: str) -> tuple[str, ...]:
    cluster = ("--database-url", database_url, "--redis-url", redis_url)
    return ("--node-id", node, *cluster, *BURST_QUEUE)


async def spread_round(
    pool: ClientPool,
    nodes: list[Server],
    project: HubProject,
    layout: str,
    clients: int,
    events: int,
) -> float:
    """Connect, run one prompt of ``events`` lines, disconnect: the seconds it took."""
    head = int((await project.info())["head"])
    connect = {"op": "connect", "group": "spread", "mode": "hub", "project": project.project}
    places = [nodes[0]] if layout == "one node" else nodes
    for i, node in enumerate(places):
        share = clients // len(places) + (1 if i < clients % len(places) else 0)
        command = {**connect, "url": hub_ws(node), "since": head}
        await pool.each(pool.shares(share), command, CONNECT_TIMEOUT + 10)
    everyone = pool.shares(clients)
    try:
        lines = events + 2
        await pool.each(everyone, {"op": "arm", "group": "spread", "lines": lines}, 30)
        limit = ROUND_TIMEOUT + lines * clients / SLOWEST_RATE
        started = time.monotonic()
        await project.client.prompt(project.project, str(events))
        replies = await pool.each(
            everyone, {"op": "wait", "group": "spread", "timeout": limit}, limit + 10
        )
        last: float = max(reply["last"] for reply in replies if reply.get("lines"))
        return last - started
    finally:
        await pool.each(everyone, {"op": "close", "group": "spread"}, 60)
        await project.wait_idle()


async def run_spread(
    pool: ClientPool, tmp: Path, args: argparse.Namespace, database_url: str
) -> list[SpreadResult]:
    (tmp / "spread-project").mkdir()
    results: list[SpreadResult] = []
    with (
        hub_server(
            tmp / "node-a", tmp / "node-a.log", node_args("a", database_url, args.redis_url)
        ) as first,
        hub_server(
            tmp / "node-b", tmp / "node-b.log", node_args("b", database_url, args.redis_url)
        ) as second,
    ):
        async with HubProject.open(first, tmp / "spread-project") as project:
            await listed_by(second, project.project)
            for clients in args.subscribers:
                events = events_for(clients, args.deliveries, None)
                print(f"fan-out across nodes: {clients} subscribers, {events} lines ...")
                result = SpreadResult(clients, events)
                for layout in LAYOUTS:  # warm both up
                    await spread_round(
                        pool, [first, second], project, layout, clients, WARMUP_EVENTS
                    )
                for _ in range(args.rounds):
                    for layout in LAYOUTS:
                        seconds = await spread_round(
                            pool, [first, second], project, layout, clients, events
                        )
                        result.seconds[layout].append(seconds)
                results.append(result)
    return results


async def listed_by(server: Server, project_id: str) -> None:
    """Wait until a node lists the project (one added on another node)."""
    http_url = server.url.replace("ws://", "http://", 1)
    async with asyncio.timeout(30), await SwitchboardClient.connect(http_url, TOKEN) as client:
        for _ in range(300):
            if project_id in {p["id"] for p in await client.projects()}:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the second node never listed project {project_id}")


# -- the report ----------------------------------------------------------------------------------


def report_spread(results: list[SpreadResult]) -> None:
    print(f"{'':<44}{'two nodes':>12}{'one node':>12}{'two/one':>11}")
    for r in results:
        two, one = r.rate("two nodes"), r.rate("one node")
        label = f"fan-out, {r.subscribers:,} subscribers (lines/s)"
        print(f"{label:<44}{two:>12,.0f}{one:>12,.0f}{two / one:>11.2f}")
    for r in results:
        for layout in LAYOUTS:
            rounds = " ".join(f"{s:.3f}" for s in r.seconds[layout])
            print(f"  N={r.subscribers} E={r.events} {layout} rounds (s): {rounds}")


def report(results: dict[str, StoreReplay], events: int) -> None:
    sqlite = statistics.median(results["sqlite"].seconds)
    postgresql = statistics.median(results["postgresql"].seconds)
    print(f"{'':<44}{'postgresql':>12}{'sqlite':>12}{'sqlite/pg':>11}")
    print(
        f"{f'replay of {events:,} events (s, median)':<44}"
        f"{postgresql:>12.2f}{sqlite:>12.2f}{sqlite / postgresql:>11.2f}"
    )
    print(f"{'replay, events/s':<44}{events / postgresql:>12,.0f}{events / sqlite:>12,.0f}")
    print(
        f"{'replay, hub CPU s (median)':<44}"
        f"{statistics.median(results['postgresql'].cpu):>12.2f}"
        f"{statistics.median(results['sqlite'].cpu):>12.2f}"
    )
    for store in STORES:
        rounds = " ".join(f"{s:.2f}" for s in results[store].seconds)
        print(f"  {store} rounds (s): {rounds}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=counts, default=[100, 1000])
    parser.add_argument(
        "--deliveries",
        type=int,
        default=300_000,
        help="lines delivered per fan-out round (sets E = deliveries / subscribers)",
    )
    parser.add_argument("--replay-events", type=int, default=100_000)
    parser.add_argument("--client-procs", type=int, default=min(4, os.cpu_count() or 2))
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("SWITCHBOARD_TEST_REDIS_URL", REDIS_URL),
        help="the Redis the nodes share (as the tests use)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SWITCHBOARD_TEST_POSTGRES_URL", ADMIN_URL),
        help="a PostgreSQL server and a role that may create databases (as the tests use)",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    pool = ClientPool(args.client_procs, FanoutWorker)
    try:
        with tempfile.TemporaryDirectory(prefix="switchboard-scaling-bench-") as tmp_name:
            tmp = Path(tmp_name)
            with postgres_database(args.postgres_url) as database_url:
                spread = await run_spread(pool, tmp, args, database_url)
            with postgres_database(args.postgres_url) as database_url:
                replay = await run_replay(pool, tmp, args.replay_events, args.rounds, database_url)
    finally:
        pool.close()
    print(
        f"\nscaling benchmark: {os.cpu_count()} CPUs, {args.client_procs} client processes, "
        f"fan-out best of {args.rounds} rounds, replay median of {args.rounds}, "
        f"{time.monotonic() - started:.0f} s"
    )
    report_spread(spread)
    report(replay, args.replay_events)


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
