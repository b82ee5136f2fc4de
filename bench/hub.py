"""Hub benchmark: fan-out throughput, replay and memory per idle subscriber on ``/ws``.

    ./scripts/bench hub        (or: .venv/bin/python -m bench.hub --subscribers 1,100,1000)

The benchmark starts every process it measures, bound to 127.0.0.1 only: the hub
(``python -m switchboard serve`` with bench/hub_agent.py as its CLI), the baseline
(bench/hub_baseline.py: a bare ``websockets`` broadcast server over the same agent), and
the clients, which live in ``--client-procs`` worker processes so that their CPU is not
spent in the server's process (nor in the one that measures). One table at the end.

1. Fan-out. N clients subscribe to one project; a prompt asking for E lines makes the
   agent print init + E assistant lines + result in one burst. Throughput is
   (E + 2) x N delivered lines / (time from sending the prompt until the last client has
   its last line). The baseline gets the same trigger, runs the same agent, sends the
   same lines and is measured by the same clients, alternating with the hub in one run;
   the best of ``--rounds`` is kept for each (medians are shown too). E is
   ``--deliveries`` / N within limits, unless ``--events`` fixes it. The details also
   give each server's CPU time per delivered line (from /proc): unlike the rate, it
   does not depend on the clients keeping up, which matters on a machine with few CPUs.
   (``broadcast`` writes line by line across all connections, so at high N each client
   wakes up for about one frame at a time, which costs it more CPU per frame than the
   hub's per-connection bursts: the clients' CPU, also shown, tells when that is what
   bounds the baseline. ``--baseline queues`` gives it a queue and writer per client.)
2. Replay. ``--replay-events`` events are written into a fresh data dir with the store's
   own classes before the server starts; then one client subscribes with since=0 and is
   timed until its ``caught_up``. The stall is measured from outside: a second
   connection, in this process (not the replaying client's), sends a ``heartbeat``
   every 10 ms and waits for its ``heartbeat_ack``. The server answers it on its event
   loop, so a loop blocked for T ms delays that answer by up to T ms: the longest round
   trip during the replay is an upper bound of the longest stall (plus the probe's own
   latency, which the same probe on the idle server shows; the hub is not told
   anything, nor run differently).
3. Memory. The server's VmRSS (/proc/PID/status) before and after
   ``--idle-subscribers`` clients connect, subscribe to a project and stay idle, divided
   by their number; the baseline's figure for bare connections is shown next to it.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from bench import floor
from bench.client_pool import ClientPool
from bench.processes import (
    cpu_seconds,
    launched,
    raise_open_files,
    rss_kib,
    serve_argv,
)
from switchboard.client import SwitchboardClient
from switchboard.store.offline import write_project
from switchboard.store.records import NewEvent, ProjectRecord

HERE = Path(__file__).resolve().parent
AGENT = HERE / "hub_agent.py"
BASELINE = HERE / "hub_baseline.py"
TOKEN = "bench"
MARK = b'"uuid":"'
"""In every line the agent prints, and in none of the hub's own messages."""

BURST_QUEUE = ("--subscriber-queue-bytes", str(256 * 1024 * 1024))
"""The hub's per-client send queue for fan-out: room for a whole round's burst. The
baseline queues for a client without limit; by default the hub closes a client that
falls 4 MiB behind (4008: it resumes from its seq), and one client reading a 50,000-line
burst in Python falls that far behind a hub that is faster than it."""
CONNECT_TIMEOUT = 120.0
CONNECT_CONCURRENCY = 50
ROUND_TIMEOUT = 10.0
SLOWEST_RATE = 2000.0
"""A round's time limit: ROUND_TIMEOUT plus its lines at this many per second."""
RUN_END_GRACE = 10.0
WATCH_INTERVAL = 0.25
REPLAY_TIMEOUT = 300.0
IDLE_TIMEOUT = 30.0
SETTLE_SECONDS = 1.0
PROBE_INTERVAL = 0.01
PROBE_TIMEOUT = 30.0
PROBE_LIMIT = 100_000
IDLE_PROBE_SECONDS = 1.0
WARMUP_EVENTS = 200
MIN_EVENTS = 100
MAX_EVENTS = 50_000
FILL_BATCH = 5000
WARM_CLIENTS = 10
DIRECTORIES = ("fanout-project", "replay-project", "replay-data", "memory-project")

REPLAY_LINE = (
    '{"type":"assistant","message":{"id":"msg_replay","type":"message","role":"assistant",'
    '"model":"claude-bench","content":[{"type":"text","text":"stored line %d"}],'
    '"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":12}},'
    '"parent_tool_use_id":null,"session_id":"b3f1c0de-0000-4000-8000-00000000be7c",'
    '"uuid":"00000000-0000-4000-8000-%012d"}'
)
REPLAY_FRAME = (
    '{"type":"event","project":"0d6f3c1e-5a7b-4c2d-9e8f-replay000000","seq":%d,"epoch":1,'
    '"run":null,"kind":"cli","data":'
    + REPLAY_LINE.replace("%d", "0").replace("%012d", "0" * 12)
    + "}"
)
"""An event frame as the hub replays REPLAY_LINE, for the baseline to send from memory."""


# -- processes ---------------------------------------------------------------------------


def bench_env() -> dict[str, str]:
    """Our environment without settings that could change how the server runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.pop("CLAUDECODE", None)
    return env


@dataclass
class Server:
    name: str
    process: "subprocess.Popen[str]"
    url: str
    """``ws://127.0.0.1:PORT``."""
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def serving(
    name: str, argv: list[str], log_path: Path, banner: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start a server whose first stdout line ends with its URL; stop it afterwards."""
    with launched(name, argv, log_path, banner, env or bench_env()) as (process, line):
        yield Server(name, process, line.split()[-1].replace("http://", "ws://", 1), log_path)


def hub_server(
    data_dir: Path, log_path: Path, extra: tuple[str, ...] = ()
) -> contextlib.AbstractContextManager[Server]:
    # its projects are next to its data dir, not under $HOME
    argv = [*serve_argv(data_dir, TOKEN, AGENT, data_dir.parent), *extra]
    return serving("the hub", argv, log_path, " listening on ")


def baseline_server(log_path: Path, kind: str) -> contextlib.AbstractContextManager[Server]:
    mode = ["--queues"] if kind == "queues" else []
    argv = [sys.executable, str(BASELINE), *mode, str(AGENT)]  # the agent runs as the hub runs it
    return serving("the baseline", argv, log_path, "listening on ")


def hub_ws(server: Server) -> str:
    return f"{server.url}/ws?token={TOKEN}"


# -- clients (in worker processes) ----------------------------------------------------------


async def open_connection(url: str) -> ClientConnection:
    return await websockets.connect(
        url, max_size=None, compression=None, ping_interval=None, open_timeout=CONNECT_TIMEOUT
    )


class Subscriber:
    """One client: counts the agent's lines as they arrive and notes when it has them all."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.count = 0
        self.target = 0
        self.reached = 0.0
        self.done = asyncio.Event()
        self.error: str | None = None
        self.task = asyncio.create_task(self._read())

    def arm(self, lines: int) -> None:
        self.target += lines
        self.done.clear()

    async def _read(self) -> None:
        ws = self.ws
        try:
            while True:
                frame = await ws.recv(decode=False)
                if MARK in frame:
                    self.count += 1
                    if self.count == self.target:
                        self.reached = time.monotonic()
                        self.done.set()
        except websockets.ConnectionClosed:
            self.error = f"connection closed ({ws.close_code}: {ws.close_reason})"
            self.done.set()

    async def close(self) -> None:
        await self.ws.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def subscribe_hub(ws: ClientConnection, project: str, since: int) -> None:
    """Wait for ``connected``, subscribe, and wait until the subscription is live."""
    first = json.loads(await ws.recv())
    if first.get("type") != "connected":
        raise RuntimeError(f"expected 'connected', got {first!r}")
    request = {"type": "subscribe", "id": 1, "project": project, "since": since}
    await ws.send(json.dumps(request))
    while True:
        message = json.loads(await ws.recv())
        if message.get("type") == "error":
            raise RuntimeError(f"subscribe failed: {message!r}")
        if message.get("type") == "caught_up":
            return


async def open_subscriber(url: str, mode: str, project: str, since: int) -> Subscriber:
    ws = await open_connection(url)
    try:
        if mode == "hub":
            await subscribe_hub(ws, project, since)
        else:
            await ws.recv()  # the baseline's "subscribed": it now broadcasts to us
    except BaseException:
        await ws.close()
        raise
    return Subscriber(ws)


async def replay_once(url: str, project: str) -> dict[str, Any]:
    """Subscribe with since=0; count events until ``caught_up``."""
    async with await open_connection(url) as ws:
        json.loads(await ws.recv())  # connected
        started = time.monotonic()
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "project": project, "since": 0}))
        return await count_replayed(ws, started)


async def count_replayed(ws: ClientConnection, started: float) -> dict[str, Any]:
    """Count ``event`` frames until ``caught_up``: how many, and the seconds since
    ``started``."""
    events = 0
    while True:
        frame = await ws.recv(decode=False)
        if frame.startswith(b'{"type":"event"'):
            events += 1
        elif frame.startswith(b'{"type":"caught_up"'):
            return {"seconds": time.monotonic() - started, "events": events}
        elif frame.startswith(b'{"type":"error"'):
            raise RuntimeError(f"replay refused: {frame[:300]!r}")


async def baseline_replay_once(url: str, count: int) -> dict[str, Any]:
    """The same events, from the baseline's memory: counted until ``caught_up``."""
    async with await open_connection(f"{url}/replay") as ws:
        started = time.monotonic()
        await ws.send(json.dumps({"count": count, "frame": REPLAY_FRAME}))
        return await count_replayed(ws, started)


class FanoutWorker:
    """A client process's state: groups of subscribers, by name."""

    def __init__(self) -> None:
        self.groups: dict[str, list[Subscriber]] = {}

    async def handle(self, command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "connect":
            return await self.connect(command)
        if op == "arm":
            for subscriber in self.groups.get(command["group"], []):
                subscriber.arm(command["lines"])
            return {}
        if op == "wait":
            return await self.wait(command["group"], command["timeout"])
        if op == "close":
            await self.close(command["group"])
            return {}
        if op == "replay":
            async with asyncio.timeout(command["timeout"]):
                return await replay_once(command["url"], command["project"])
        if op == "replay_baseline":
            async with asyncio.timeout(command["timeout"]):
                return await baseline_replay_once(command["url"], command["events"])
        if op == "quit":
            for group in list(self.groups):
                await self.close(group)
            return {}
        raise ValueError(f"unknown op {op!r}")

    async def connect(self, command: dict[str, Any]) -> dict[str, Any]:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one() -> Subscriber:
            async with gate:
                return await open_subscriber(
                    command["url"], command["mode"], command["project"], command["since"]
                )

        async with asyncio.timeout(CONNECT_TIMEOUT):
            opened = await asyncio.gather(
                *(one() for _ in range(command["count"])), return_exceptions=True
            )
        subscribers = [s for s in opened if isinstance(s, Subscriber)]
        self.groups.setdefault(command["group"], []).extend(subscribers)
        failures = [s for s in opened if not isinstance(s, Subscriber)]
        if failures:
            raise RuntimeError(f"{len(failures)} connections failed, e.g. {failures[0]!r}")
        return {"connected": len(subscribers)}

    async def wait(self, group: str, seconds: float) -> dict[str, Any]:
        subscribers = self.groups.get(group, [])
        try:
            async with asyncio.timeout(seconds):
                await asyncio.gather(*(s.done.wait() for s in subscribers))
        except TimeoutError:
            behind = [s for s in subscribers if not s.done.is_set()]
            example = behind[0]
            raise RuntimeError(
                f"{len(behind)} clients still waiting after {seconds:g} s "
                f"(e.g. {example.count}/{example.target} lines)"
            ) from None
        errors = [s.error for s in subscribers if s.error is not None]
        if errors:
            raise RuntimeError(f"{len(errors)} clients lost their connection: {errors[0]}")
        return {
            "last": max(s.reached for s in subscribers),
            "lines": sum(s.count for s in subscribers),
        }

    async def close(self, group: str) -> None:
        subscribers = self.groups.pop(group, [])
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)


# -- 1. fan-out ------------------------------------------------------------------------------


@dataclass
class FanoutResult:
    subscribers: int
    events: int
    secs: dict[str, list[float]] = field(default_factory=lambda: {"hub": [], "raw": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"hub": [], "raw": []})
    """Server CPU seconds per round."""
    client_cpu: dict[str, list[float]] = field(default_factory=lambda: {"hub": [], "raw": []})

    @property
    def deliveries(self) -> int:
        """Lines delivered per round: init, E assistant lines and result, to each client."""
        return (self.events + 2) * self.subscribers

    def rate(self, side: str) -> float:
        return self.deliveries / min(self.secs[side])

    def median_rate(self, side: str) -> float:
        return self.deliveries / statistics.median(self.secs[side])

    def cpu_per_line_us(self, side: str, clients: bool = False) -> float:
        spent = self.client_cpu if clients else self.cpu
        return statistics.median(spent[side]) / self.deliveries * 1e6


class HubProject:
    """The controller's own connection to the hub: it registers the project and prompts."""

    def __init__(self, client: SwitchboardClient, http_url: str, project: str) -> None:
        self.client = client
        self.http_url = http_url
        self.project = project

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, server: Server, path: Path) -> AsyncIterator["HubProject"]:
        http_url = server.url.replace("ws://", "http://", 1)
        async with await SwitchboardClient.connect(http_url, TOKEN) as client:
            existing = {p["path"]: p["id"] for p in await client.projects()}
            project_id = existing.get(str(path)) or (await client.add_project(str(path)))["id"]
            yield cls(client, http_url, project_id)

    async def info(self) -> dict[str, Any]:
        for project in await self.client.projects():
            if project["id"] == self.project:
                return project
        raise RuntimeError(f"project {self.project} vanished")

    async def watch(self, run_id: str, head: int, clients: "asyncio.Future[Any]") -> None:
        """Return once ``clients`` is done; raise if the run ends without them getting it."""
        while not clients.done():
            info = await self.info()
            if info["status"] == "idle" and info["queued"] == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(clients), RUN_END_GRACE)
                if not clients.done():
                    why = await self.run_outcome(run_id, head)
                    raise RuntimeError(f"the hub's run ended, the clients lack lines: {why}")
                return
            await asyncio.wait({clients}, timeout=WATCH_INTERVAL)

    async def run_outcome(self, run_id: str, since: int) -> str:
        """How a run ended, from its ``run`` events."""
        outcome = "unknown"
        async with await SwitchboardClient.connect(self.http_url, TOKEN) as client:
            await client.subscribe(self.project, since=since)
            async with asyncio.timeout(IDLE_TIMEOUT):
                async for message in client.messages():
                    if message["type"] == "caught_up":
                        break
                    data = message.get("data")
                    if isinstance(data, dict) and data.get("id") == run_id:
                        outcome = f"{data.get('state')}: {data.get('error')}"
        return outcome

    async def wait_idle(self) -> None:
        async with asyncio.timeout(IDLE_TIMEOUT):
            while True:
                info = await self.info()
                if info["status"] == "idle" and info["queued"] == 0:
                    return
                await asyncio.sleep(0.02)


class FanoutBench:
    def __init__(
        self,
        pool: ClientPool,
        hub: Server,
        raw: Server,
        project: HubProject,
        control: ClientConnection,
    ) -> None:
        self.pool = pool
        self.servers = {"hub": hub, "raw": raw}
        self.project = project
        self.control = control

    async def connect(self, side: str, clients: int) -> list[tuple[int, int]]:
        shares = self.pool.shares(clients)
        if side == "hub":
            since = int((await self.project.info())["head"])
            url = hub_ws(self.servers["hub"])
        else:
            since, url = 0, f"{self.servers['raw'].url}/subscribe"
        command = {
            "op": "connect",
            "group": side,
            "url": url,
            "mode": side,
            "project": self.project.project,
            "since": since,
        }
        await self.pool.each(shares, command, CONNECT_TIMEOUT + 10)
        return shares

    async def round(
        self, side: str, shares: list[tuple[int, int]], events: int
    ) -> tuple[float, float, float]:
        """One run of ``events`` lines: (seconds, server CPU seconds, clients' CPU seconds)."""
        lines = events + 2
        await self.pool.each(shares, {"op": "arm", "group": side, "lines": lines}, 30)
        limit = ROUND_TIMEOUT + lines * sum(n for _, n in shares) / SLOWEST_RATE
        wait = {"op": "wait", "group": side, "timeout": limit}
        head = int((await self.project.info())["head"]) if side == "hub" else 0
        pid = self.servers[side].pid
        cpu_before = cpu_seconds(pid)
        clients_before = self.pool.cpu_seconds()
        started = time.monotonic()
        if side == "hub":
            run = await self.project.client.prompt(self.project.project, str(events))
        else:
            await self.control.send(str(events))
        waiting = asyncio.ensure_future(self.pool.each(shares, wait, limit + 10))
        if side == "hub":
            await self.project.watch(run["id"], head, waiting)
        replies = await waiting
        finished = max(reply["last"] for reply in replies)
        cpu = cpu_seconds(pid) - cpu_before
        clients_cpu = self.pool.cpu_seconds() - clients_before
        if side == "hub":
            await self.project.wait_idle()
        return finished - started, cpu, clients_cpu

    async def measure(self, clients: int, events: int, rounds: int) -> FanoutResult:
        result = FanoutResult(clients, events)
        shares = {side: await self.connect(side, clients) for side in ("hub", "raw")}
        try:
            for side in ("hub", "raw"):
                await self.round(side, shares[side], min(events, WARMUP_EVENTS))
            for _ in range(rounds):
                for side in ("hub", "raw"):
                    secs, cpu, clients_cpu = await self.round(side, shares[side], events)
                    result.secs[side].append(secs)
                    result.cpu[side].append(cpu)
                    result.client_cpu[side].append(clients_cpu)
        finally:
            for side in ("hub", "raw"):
                await self.pool.each(shares[side], {"op": "close", "group": side}, 60)
        return result


def events_for(clients: int, deliveries: int, fixed: int | None) -> int:
    if fixed is not None:
        return fixed
    return max(MIN_EVENTS, min(MAX_EVENTS, deliveries // clients))


async def run_fanout(pool: ClientPool, tmp: Path, args: argparse.Namespace) -> list[FanoutResult]:
    project_dir = tmp / "fanout-project"
    results: list[FanoutResult] = []
    with (
        hub_server(tmp / "fanout-data", tmp / "fanout-hub.log", BURST_QUEUE) as hub,
        baseline_server(tmp / "fanout-baseline.log", args.baseline) as raw,
    ):
        async with (
            HubProject.open(hub, project_dir) as project,
            await open_connection(f"{raw.url}/control") as control,
        ):
            bench = FanoutBench(pool, hub, raw, project, control)
            for clients in args.subscribers:
                events = events_for(clients, args.deliveries, args.events)
                print(f"fan-out: {clients} subscribers, {events} lines per run ...", flush=True)
                try:
                    results.append(await bench.measure(clients, events, args.rounds))
                except Exception:
                    print(f"-- hub log --\n{hub.log_tail()}\n-- baseline log --\n{raw.log_tail()}")
                    raise
    return results


# -- 2. replay ---------------------------------------------------------------------------------


@dataclass
class ReplayResult:
    events: int
    seconds: list[float]
    baseline_seconds: list[float]
    idle_rtts: list[float]
    replay_rtts: list[float]
    """Heartbeat round trips during every round's replay."""
    cpu: list[tuple[float, float]] = field(default_factory=list)
    """CPU seconds of each hub replay: the server's, the clients' (the one replaying
    client and the idle ones in its process)."""


async def fill_store(data_dir: Path, project_dir: Path, events: int) -> str:
    """Write ``events`` events of one new project with the store's classes; its id."""

    def batches(_record: ProjectRecord) -> Iterator[list[NewEvent]]:
        for start in range(0, events, FILL_BATCH):
            yield [
                NewEvent("cli", REPLAY_LINE % (i, i))
                for i in range(start, min(events, start + FILL_BATCH))
            ]

    record, _head = await write_project(data_dir, project_dir, batches, "replay")
    return record.id


async def heartbeats(ws: ClientConnection, stop: Callable[[], bool]) -> list[float]:
    """Heartbeat round trips (seconds), one every PROBE_INTERVAL, until ``stop()``."""
    rtts: list[float] = []
    for n in range(1, PROBE_LIMIT + 1):
        if stop():
            break
        sent = time.monotonic()
        await ws.send(json.dumps({"type": "heartbeat", "id": n}))
        async with asyncio.timeout(PROBE_TIMEOUT):
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("type") == "heartbeat_ack" and reply.get("id") == n:
                    break
        rtts.append(time.monotonic() - sent)
        await asyncio.sleep(PROBE_INTERVAL)
    return rtts


async def run_replay(pool: ClientPool, tmp: Path, events: int, rounds: int) -> ReplayResult:
    project_dir = tmp / "replay-project"
    print(f"replay: storing {events:,} events ...", flush=True)
    project = await fill_store(tmp / "replay-data", project_dir, events)
    result = ReplayResult(events, [], [], [], [])
    with (
        hub_server(tmp / "replay-data", tmp / "replay-hub.log") as hub,
        baseline_server(tmp / "replay-baseline.log", "broadcast") as raw,
    ):
        url = hub_ws(hub)
        async with await open_connection(url) as probe:
            await probe.recv()  # connected
            deadline = time.monotonic() + IDLE_PROBE_SECONDS
            result.idle_rtts = await heartbeats(probe, lambda: time.monotonic() > deadline)
            print(f"replay: one client, since=0, {events:,} events, {rounds} rounds ...")
            for _ in range(rounds):
                command: dict[str, Any] = {"op": "replay", "url": url, "project": project}
                cpu = (cpu_seconds(hub.pid), pool.cpu_seconds())
                replay = asyncio.create_task(
                    pool.call(0, {**command, "timeout": REPLAY_TIMEOUT}, REPLAY_TIMEOUT + 10)
                )
                result.replay_rtts += await heartbeats(probe, replay.done)
                result.seconds.append(checked(await replay, events))
                result.cpu.append((cpu_seconds(hub.pid) - cpu[0], pool.cpu_seconds() - cpu[1]))
                command = {"op": "replay_baseline", "url": raw.url, "events": events}
                reply = await pool.call(0, {**command, "timeout": REPLAY_TIMEOUT}, REPLAY_TIMEOUT)
                result.baseline_seconds.append(checked(reply, events))
    return result


def checked(reply: dict[str, Any], events: int) -> float:
    """A replay's seconds, once it is known to have delivered every event."""
    if reply["events"] != events:
        raise RuntimeError(f"replay delivered {reply['events']} of {events} events")
    seconds: float = reply["seconds"]
    return seconds


# -- 3. memory --------------------------------------------------------------------------------


@dataclass
class MemoryResult:
    subscribers: int
    before_kib: dict[str, int] = field(default_factory=dict)
    after_kib: dict[str, int] = field(default_factory=dict)

    def per_client(self, side: str) -> float:
        return (self.after_kib[side] - self.before_kib[side]) / self.subscribers


async def idle_rss(
    pool: ClientPool, server: Server, side: str, url: str, project: str, clients: int
) -> tuple[int, int]:
    """RSS before and after ``clients`` idle subscribers (after a few warm-up ones)."""
    command = {"op": "connect", "url": url, "mode": side, "project": project, "since": 0}
    warm = pool.shares(WARM_CLIENTS)
    await pool.each(warm, {**command, "group": "warm"}, CONNECT_TIMEOUT + 10)
    await pool.each(warm, {"op": "close", "group": "warm"}, 60)
    await asyncio.sleep(SETTLE_SECONDS)
    before = rss_kib(server.pid)
    shares = pool.shares(clients)
    await pool.each(shares, {**command, "group": "idle"}, CONNECT_TIMEOUT + 10)
    await asyncio.sleep(SETTLE_SECONDS)
    after = rss_kib(server.pid)
    await pool.each(shares, {"op": "close", "group": "idle"}, 60)
    return before, after


async def run_memory(pool: ClientPool, tmp: Path, clients: int, baseline: str) -> MemoryResult:
    result = MemoryResult(clients)
    project_dir = tmp / "memory-project"
    print(f"memory: {clients} idle subscribers ...", flush=True)
    with hub_server(tmp / "memory-data", tmp / "memory-hub.log") as hub:
        async with HubProject.open(hub, project_dir) as project:
            before, after = await idle_rss(pool, hub, "hub", hub_ws(hub), project.project, clients)
            result.before_kib["hub"], result.after_kib["hub"] = before, after
    with baseline_server(tmp / "memory-baseline.log", baseline) as raw:
        before, after = await idle_rss(pool, raw, "raw", f"{raw.url}/subscribe", "", clients)
        result.before_kib["raw"], result.after_kib["raw"] = before, after
    return result


# -- the report ------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def plural(n: int) -> str:
    return f"{n:,} subscriber" + ("" if n == 1 else "s")


def report(
    fanout: list[FanoutResult],
    replay: ReplayResult | None,
    memory: MemoryResult | None,
    header: str,
    floor_us: dict[str, float] | None = None,
) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    for r in fanout:
        ratio = r.rate("hub") / r.rate("raw")
        target = ">= 0.80" if r.subscribers == 1 else ">= 1.00"
        rows.append(
            (
                f"fan-out, {plural(r.subscribers)} (events/s)",
                f"{r.rate('hub'):,.0f}",
                f"{r.rate('raw'):,.0f}",
                f"{ratio:.2f}",
                target,
            )
        )
        base = r.cpu_per_line_us("raw")
        if r.subscribers == 1 and floor_us is not None and base > 0:  # 0: under a tick
            rows.append(
                (
                    "  its ceiling on this design (us/line)",
                    f"{base + floor_us['total']:.1f}",
                    f"{base:.1f}",
                    f"{floor.ceiling(base, floor_us['total']):.2f}",
                    "(bench/floor.py)",
                )
            )
    if replay is not None:
        seconds = statistics.median(replay.seconds)
        baseline = statistics.median(replay.baseline_seconds)
        rows.append(
            (
                f"replay of {replay.events:,} events (s, median)",
                f"{seconds:.2f}",
                f"{baseline:.2f}",
                f"{baseline / seconds:.2f}",
                "<= 1.0 s",
            )
        )
        rows.append(("replay, events/s", f"{replay.events / seconds:,.0f}", "", "", ""))
        rows.append(
            (
                "replay, max event-loop stall (ms)",
                ms(max(replay.replay_rtts)),
                f"idle {ms(max(replay.idle_rtts))}",
                "",
                "<= 20",
            )
        )
    if memory is not None:
        hub, raw = memory.per_client("hub"), memory.per_client("raw")
        rows.append(
            (
                "memory per idle subscriber (KiB)",
                f"{hub:.1f}",
                f"{raw:.1f}",
                f"{hub / raw:.2f}" if raw > 0 else "",
                "<= 20",
            )
        )
    print(f"\n{header}")
    print(f"{'':<40}{'hub':>12}{'baseline':>14}{'hub/base':>10}  target")
    for name, hub_text, raw_text, ratio_text, target in rows:
        print(f"{name:<40}{hub_text:>12}{raw_text:>14}{ratio_text:>10}  {target}")
    details(fanout, replay, memory)
    if floor_us is not None:
        parts = ", ".join(f"{name} {value:.2f}" for name, value in floor_us.items())
        print(
            "\nthe floor: CPU us per line the hub cannot skip, each part at its cheapest "
            f"(bench/floor.py): {parts}"
        )


def details(
    fanout: list[FanoutResult], replay: ReplayResult | None, memory: MemoryResult | None
) -> None:
    if fanout:
        print("\nfan-out rounds (s; E assistant lines + init + result per run, to each client)")
        for r in fanout:
            median = r.median_rate("hub") / r.median_rate("raw")
            print(
                f"  N={r.subscribers:<5} E={r.events:<6} "
                f"hub {' '.join(f'{s:.3f}' for s in r.secs['hub'])} | "
                f"baseline {' '.join(f'{s:.3f}' for s in r.secs['raw'])} | "
                f"median ratio {median:.2f} | CPU per line, server: "
                f"hub {r.cpu_per_line_us('hub'):.1f} us, "
                f"baseline {r.cpu_per_line_us('raw'):.1f} us; clients: "
                f"{r.cpu_per_line_us('hub', True):.1f} us, "
                f"{r.cpu_per_line_us('raw', True):.1f} us"
            )
    if replay is not None:
        print(
            f"\nreplay heartbeat round trips (ms): idle max {ms(max(replay.idle_rtts))} "
            f"p50 {ms(statistics.median(replay.idle_rtts))} ({len(replay.idle_rtts)} probes); "
            f"during replay max {ms(max(replay.replay_rtts))} "
            f"p99 {ms(percentile(replay.replay_rtts, 0.99))} "
            f"p50 {ms(statistics.median(replay.replay_rtts))} ({len(replay.replay_rtts)} probes)"
        )
        print(
            f"replay rounds (s): hub {[round(s, 2) for s in replay.seconds]}, baseline (the "
            f"same frames from a bare websockets server's memory) "
            f"{[round(s, 2) for s in replay.baseline_seconds]}; hub/base is baseline s / hub s"
        )
        print(
            "replay CPU seconds (server, clients): "
            f"{[(round(a, 2), round(b, 2)) for a, b in replay.cpu]}"
        )
    if memory is not None:
        print(
            f"\nmemory, VmRSS KiB before -> after {memory.subscribers:,} idle clients: "
            f"hub {memory.before_kib['hub']:,} -> {memory.after_kib['hub']:,}, "
            f"baseline {memory.before_kib['raw']:,} -> {memory.after_kib['raw']:,}"
        )


# -- main --------------------------------------------------------------------------------------


def counts(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=counts, default=[1, 100, 1000])
    parser.add_argument(
        "--deliveries",
        type=int,
        default=300_000,
        help="lines delivered per fan-out round (sets E = deliveries / subscribers)",
    )
    parser.add_argument("--events", type=int, default=None, help="fix E for every row")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--replay-events", type=int, default=100_000)
    parser.add_argument("--idle-subscribers", type=int, default=1000)
    parser.add_argument(
        "--baseline",
        choices=("broadcast", "queues"),
        default="broadcast",
        help="the baseline's fan-out: websockets.broadcast, or a queue and writer per client",
    )
    parser.add_argument("--client-procs", type=int, default=min(4, os.cpu_count() or 2))
    parser.add_argument(
        "--parts",
        default="fanout,replay,memory",
        help="which parts to run (comma-separated: fanout, replay, memory)",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, parts: set[str]) -> None:
    started = time.monotonic()
    fanout: list[FanoutResult] = []
    replay: ReplayResult | None = None
    memory: MemoryResult | None = None
    floor_us: dict[str, float] | None = None
    pool = ClientPool(args.client_procs, FanoutWorker)
    try:
        with tempfile.TemporaryDirectory(prefix="switchboard-hub-bench-") as tmp_name:
            tmp = Path(tmp_name)
            for name in DIRECTORIES:
                (tmp / name).mkdir()
            if "fanout" in parts:
                fanout = await run_fanout(pool, tmp, args)
                if 1 in args.subscribers:
                    floor_us = floor.measure()
            if "replay" in parts:
                replay = await run_replay(pool, tmp, args.replay_events, args.rounds)
            if "memory" in parts:
                memory = await run_memory(pool, tmp, args.idle_subscribers, args.baseline)
    finally:
        pool.close()
    header = (
        f"hub benchmark: {os.cpu_count()} CPUs, {args.client_procs} client processes, "
        f"best of {args.rounds} rounds, {time.monotonic() - started:.0f} s"
    )
    report(fanout, replay, memory, header, floor_us)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    unknown = parts - {"fanout", "replay", "memory"}
    if unknown:
        print(f"unknown parts: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    most = max([*args.subscribers, args.idle_subscribers, WARM_CLIENTS])
    limit = raise_open_files(2 * most + 512)
    if limit < most + 256:
        print(f"open files limit {limit} is too low for {most} clients", file=sys.stderr)
        return 2
    asyncio.run(run(args, parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
