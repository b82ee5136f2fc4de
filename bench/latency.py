"""Latency benchmark: from a line the CLI prints to the same line at a subscriber.

    ./scripts/bench latency    (or: .venv/bin/python -m bench.latency)

The CLI is bench/stamp_agent.py, which stamps each line with the time it printed it
(``time.time()``); the clients, in their own processes on this machine (one clock), note
for each line how long ago that was. Lines are paced, not a burst: this is the delay a
person watching a run sees, not the throughput (bench/hub.py measures that).

- **P3**: ``--subscribers`` clients on one project while the CLI prints ``--lines``
  lines at ``--rate`` lines a second; p50 and p99 over every line at every client. The
  baseline, in the same run and alternating round by round, is bench/hub_baseline.py
  (a bare ``websockets`` broadcast of the same agent's lines: no storage, no envelope).
- **P8**: ``--projects`` projects, one client each, every CLI printing ``--project-rate``
  lines a second for ``--seconds`` at once; each client's p99, and the median and worst
  of them. The baseline, alternating round by round, is the same hub with one of those
  projects streaming alone at the same rate: what the load of the others adds.

Every count and wait is bounded; every process is started here and stopped here.
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from bench.client_pool import ClientPool
from bench.hub import (
    BASELINE,
    CONNECT_TIMEOUT,
    Server,
    open_connection,
    percentile,
    serving,
    subscribe_hub,
)
from bench.processes import cpu_seconds, raise_open_files, serve_argv
from switchboard.client import SwitchboardClient

HERE = Path(__file__).resolve().parent
STAMP_AGENT = HERE / "stamp_agent.py"
TOKEN = "bench-latency"
STAMP = b"stamp "
RUN_GRACE = 30.0
"""How long past its nominal length a paced round may take."""
WARMUP_LINES = 20


# -- clients (in worker processes) ----------------------------------------------------------


class StampedSubscriber:
    """One client: the delay of each stamped line it receives, in ms."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.delays: list[float] = []
        self.target = 0
        self.done = asyncio.Event()
        self.error: str | None = None
        self.task = asyncio.create_task(self._read())

    def arm(self, lines: int) -> None:
        self.delays = []
        self.target = lines
        self.done.clear()

    async def _read(self) -> None:
        ws = self.ws
        try:
            while True:
                frame = await ws.recv(decode=False)
                now = time.time()
                start = frame.find(STAMP)
                if start < 0:
                    continue
                start += len(STAMP)
                stamp = float(frame[start : frame.index(b'"', start)])
                self.delays.append((now - stamp) * 1000.0)
                if len(self.delays) == self.target:
                    self.done.set()
        except websockets.ConnectionClosed:
            self.error = f"connection closed ({ws.close_code}: {ws.close_reason})"
            self.done.set()

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class LatencyWorker:
    """A client process: named groups of stamped subscribers."""

    def __init__(self) -> None:
        self.groups: dict[str, list[StampedSubscriber]] = {}

    async def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "connect":
            async with asyncio.timeout(CONNECT_TIMEOUT):
                opened = [await self._open(command, project) for project in command["projects"]]
            self.groups.setdefault(command["group"], []).extend(opened)
            return {}
        if op == "arm":
            for subscriber in self.groups.get(command["group"], []):
                subscriber.arm(command["lines"])
            return {}
        if op == "wait":
            return await self._wait(command["group"], command["timeout"])
        if op in ("close", "quit"):
            names = [command["group"]] if op == "close" else list(self.groups)
            for name in names:
                for subscriber in self.groups.pop(name, []):
                    await subscriber.close()
            return {}
        raise ValueError(f"unknown op {op!r}")

    @staticmethod
    async def _open(command: dict[str, Any], project: str) -> StampedSubscriber:
        ws = await open_connection(command["url"])
        try:
            if command["mode"] == "hub":
                await subscribe_hub(ws, project, command["since"])
            else:
                await ws.recv()  # the baseline's "subscribed"
        except BaseException:
            await ws.close()
            raise
        return StampedSubscriber(ws)

    async def _wait(self, group: str, seconds: float) -> dict[str, Any]:
        subscribers = self.groups.get(group, [])
        try:
            async with asyncio.timeout(seconds):
                await asyncio.gather(*(s.done.wait() for s in subscribers))
        except TimeoutError:
            short = min(len(s.delays) for s in subscribers)
            raise RuntimeError(
                f"a client still waits after {seconds:g} s ({short} lines)"
            ) from None
        errors = [s.error for s in subscribers if s.error is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} clients lost their connection: {errors[0]}")
        return {"delays": [s.delays for s in subscribers]}


# -- driving the servers ---------------------------------------------------------------------


@dataclass
class Side:
    """What one round of a side measured: each subscriber's delays (ms)."""

    per_subscriber: list[list[float]] = field(default_factory=list)
    server_cpu: float = 0.0
    """The server's CPU time during the round, as a share of one core."""

    def every(self) -> list[float]:
        return [delay for delays in self.per_subscriber for delay in delays]

    def p99s(self) -> list[float]:
        return [percentile(delays, 0.99) for delays in self.per_subscriber]


class Clients:
    """The client processes, with each group's subscribers spread over them."""

    def __init__(self, pool: ClientPool) -> None:
        self.pool = pool
        self.spread: dict[str, list[int]] = {}

    async def connect(
        self, group: str, url: str, mode: str, projects: list[str], since: int = 0
    ) -> None:
        size = self.pool.size
        slices = [projects[i::size] for i in range(size)]
        self.spread[group] = [i for i, part in enumerate(slices) if part]
        command = {"op": "connect", "group": group, "url": url, "mode": mode, "since": since}
        await asyncio.gather(
            *(
                self.pool.call(i, {**command, "projects": slices[i]}, CONNECT_TIMEOUT)
                for i in self.spread[group]
            )
        )

    async def arm(self, group: str, lines: int) -> None:
        command = {"op": "arm", "group": group, "lines": lines}
        await asyncio.gather(*(self.pool.call(i, command, 30) for i in self.spread[group]))

    async def wait(self, group: str, seconds: float) -> Side:
        command = {"op": "wait", "group": group, "timeout": seconds}
        calls = [self.pool.call(i, command, seconds + 30) for i in self.spread[group]]
        side = Side()
        for reply in await asyncio.gather(*calls):
            side.per_subscriber.extend(reply["delays"])
        return side

    async def close(self, group: str) -> None:
        command = {"op": "close", "group": group}
        await asyncio.gather(*(self.pool.call(i, command, 30) for i in self.spread.pop(group)))


@contextlib.asynccontextmanager
async def hub_with_projects(
    tmp: Path, count: int
) -> AsyncIterator[tuple[Server, SwitchboardClient, list[str]]]:
    """A hub running the stamp agent, with ``count`` projects: (server, client, ids)."""
    data = tmp / "hub-data"
    data.mkdir(parents=True)
    # every project runs at once (P8), as every baseline client gets every line
    argv = [*serve_argv(data, TOKEN, STAMP_AGENT, tmp), "--max-concurrent-runs", str(count)]
    with serving("the hub", argv, tmp / "hub.log", " listening on ") as server:
        http_url = server.url.replace("ws://", "http://", 1)
        async with await SwitchboardClient.connect(http_url, TOKEN) as client:
            ids = []
            for index in range(count):
                path = tmp / f"project-{index}"
                path.mkdir()
                ids.append((await client.add_project(str(path)))["id"])
            yield server, client, ids


Starter = Callable[[str], Awaitable[object]]
"""Sends the CLI its ask (``"N@R"``: N lines at R a second)."""


async def paced_round(
    clients: Clients, group: str, start: Starter, lines: int, rate: float, server: int
) -> Side:
    """Arm the group, have the CLI print ``lines`` at ``rate`` a second, and collect
    (with the CPU share of the process ``server`` meanwhile)."""
    await clients.arm(group, lines)
    cpu, started = cpu_seconds(server), time.monotonic()
    await start(f"{lines}@{rate:g}")
    side = await clients.wait(group, lines / rate + RUN_GRACE)
    side.server_cpu = (cpu_seconds(server) - cpu) / (time.monotonic() - started)
    return side


# -- P3 ---------------------------------------------------------------------------------------


@dataclass
class P3Result:
    hub: list[Side] = field(default_factory=list)
    raw: list[Side] = field(default_factory=list)


async def run_p3(clients: Clients, tmp: Path, args: argparse.Namespace) -> P3Result:
    result = P3Result()
    baseline_argv = [sys.executable, str(BASELINE), str(STAMP_AGENT)]
    subscribers = args.subscribers
    async with hub_with_projects(tmp / "p3", 1) as (hub, client, (project,)):
        with serving("the baseline", baseline_argv, tmp / "baseline.log", "listening on ") as raw:
            await clients.connect(
                "hub", f"{hub.url}/ws?token={TOKEN}", "hub", [project] * subscribers
            )
            await clients.connect("raw", f"{raw.url}/watch", "raw", ["-"] * subscribers)
            async with await open_connection(f"{raw.url}/control") as control:
                starts: dict[str, tuple[Starter, int]] = {
                    "hub": (lambda text: client.prompt(project, text), hub.pid),
                    "raw": (control.send, raw.pid),
                }
                for side, (start, pid) in starts.items():  # warm-up: the CLI starts
                    await paced_round(clients, side, start, WARMUP_LINES, args.rate, pid)
                for _ in range(args.rounds):
                    for side, (start, pid) in starts.items():
                        measured = await paced_round(
                            clients, side, start, args.lines, args.rate, pid
                        )
                        (result.hub if side == "hub" else result.raw).append(measured)
            for side in starts:
                await clients.close(side)
    return result


# -- P8 ---------------------------------------------------------------------------------------


@dataclass
class P8Result:
    projects: int
    together: list[Side] = field(default_factory=list)
    alone: list[Side] = field(default_factory=list)


async def run_p8(clients: Clients, tmp: Path, args: argparse.Namespace) -> P8Result:
    result = P8Result(args.projects)
    lines = int(args.project_rate * args.seconds)
    async with hub_with_projects(tmp / "p8", args.projects) as (hub, client, ids):
        url = f"{hub.url}/ws?token={TOKEN}"
        await clients.connect("all", url, "hub", ids)
        await clients.connect("one", url, "hub", ids[:1])

        async def every_project(text: str) -> None:
            await asyncio.gather(*(client.prompt(project, text) for project in ids))

        async def first_project(text: str) -> None:
            await client.prompt(ids[0], text)

        # warm-up: every project's CLI starts (the "one" group sees project 0's lines too)
        await clients.arm("one", WARMUP_LINES)
        rate, pid = args.project_rate, hub.pid
        await paced_round(clients, "all", every_project, WARMUP_LINES, rate, pid)
        await clients.wait("one", RUN_GRACE)
        for _ in range(args.rounds):
            result.alone.append(await paced_round(clients, "one", first_project, lines, rate, pid))
            await clients.arm("one", lines)  # it sees project 0's lines in the next round
            result.together.append(
                await paced_round(clients, "all", every_project, lines, rate, pid)
            )
            await clients.wait("one", RUN_GRACE)
        await clients.close("all")
        await clients.close("one")
    return result


# -- report -----------------------------------------------------------------------------------


def pooled(sides: list[Side], fraction: float) -> float:
    """The percentile over every line of every round."""
    return percentile([d for side in sides for d in side.every()], fraction)


def round_medians(sides: list[Side], fraction: float) -> tuple[float, list[float]]:
    """Each round's percentile, and their median."""
    each = [percentile(side.every(), fraction) for side in sides]
    return statistics.median(each), each


def report_p3(result: P3Result, args: argparse.Namespace) -> None:
    print(
        f"P3, line printed -> line received: {args.subscribers} subscribers, "
        f"{args.lines} lines at {args.rate:g}/s, {args.rounds} rounds each, alternating"
    )
    print(f"{'':34}{'hub':>10}{'baseline':>10}{'hub/baseline':>14}   rounds (hub)")
    for name, fraction, target in (("p50", 0.50, 2.0), ("p99", 0.99, 10.0)):
        hub, hub_rounds = round_medians(result.hub, fraction)
        raw, _ = round_medians(result.raw, fraction)
        print(
            f"{'latency ' + name + ', ms (median round)':34}{hub:>10.2f}{raw:>10.2f}"
            f"{hub / raw:>14.2f}   {[round(r, 2) for r in hub_rounds]} target <= {target:g}"
        )
    hub_cpu = statistics.median(side.server_cpu for side in result.hub)
    raw_cpu = statistics.median(side.server_cpu for side in result.raw)
    print(f"{'server CPU, % of a core (median)':34}{hub_cpu * 100:>10.0f}{raw_cpu * 100:>10.0f}")


def report_p8(result: P8Result, args: argparse.Namespace) -> None:
    print(
        f"P8, {result.projects} projects at {args.project_rate:g} lines/s each, one subscriber "
        f"each, {args.seconds:g} s; baseline: one of them alone; {args.rounds} rounds each"
    )
    print(f"{'':34}{'together':>10}{'alone':>10}{'ratio':>14}")
    rows: list[tuple[str, Callable[[list[Side]], float]]] = [
        ("p50 over all lines", lambda sides: round_medians(sides, 0.50)[0]),
        ("p99 per subscriber, median", lambda sides: statistics.median(p99s(sides))),
        ("p99 per subscriber, worst", lambda sides: max(p99s(sides))),
    ]
    for name, figure in rows:
        together, alone = figure(result.together), figure(result.alone)
        print(f"{name + ', ms':34}{together:>10.2f}{alone:>10.2f}{together / alone:>14.2f}")
    cpu = [
        statistics.median(s.server_cpu for s in sides) for sides in (result.together, result.alone)
    ]
    print(f"{'hub CPU, % of a core (median)':34}{cpu[0] * 100:>10.0f}{cpu[1] * 100:>10.0f}")


def p99s(sides: list[Side]) -> list[float]:
    return [p99 for side in sides for p99 in side.p99s()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10, help="P3: clients")
    parser.add_argument("--lines", type=int, default=1000, help="P3: lines a round")
    parser.add_argument("--rate", type=float, default=1000.0, help="P3: lines a second")
    parser.add_argument("--projects", type=int, default=50, help="P8: projects")
    parser.add_argument("--project-rate", type=float, default=100.0, help="P8: lines/s each")
    parser.add_argument("--seconds", type=float, default=5.0, help="P8: length of a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--parts", default="p3,p8", help="comma-separated: p3, p8")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, parts: set[str]) -> None:
    pool = ClientPool(args.client_procs, LatencyWorker)
    try:
        clients = Clients(pool)
        with tempfile.TemporaryDirectory(prefix="switchboard-latency-bench-") as tmp_name:
            tmp = Path(tmp_name)
            p3 = await run_p3(clients, tmp, args) if "p3" in parts else None
            p8 = await run_p8(clients, tmp, args) if "p8" in parts else None
    finally:
        pool.close()
    print(f"latency benchmark: {os.cpu_count()} CPUs, {args.client_procs} client processes")
    if p3 is not None:
        report_p3(p3, args)
    if p8 is not None:
        report_p8(p8, args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if parts - {"p3", "p8"}:
        print(f"unknown parts: {', '.join(sorted(parts - {'p3', 'p8'}))}", file=sys.stderr)
        return 2
    raise_open_files(4 * (args.projects + args.subscribers) + 512)
    asyncio.run(run(args, parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
