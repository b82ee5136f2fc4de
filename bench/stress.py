"""Stress benchmark: what abusive clients cost the server, and what a good client then sees.

    ./scripts/bench stress     (or: .venv/bin/python -m bench.stress --idle 2000 --half-open 500)

Every process is started here, bound to 127.0.0.1 only, with the server's default
settings (bench/flood_agent.py stands in for the CLI). One table at the end.

1. Memory. One ``/ws`` client sends ``--messages`` heartbeats of ``--message-bytes``
   each (the padding is in ``id``, which the ack echoes) and never reads what comes
   back. The server's VmRSS is sampled every 10 ms from before the first message until
   the flood ends, and the growth (peak minus before) is compared with twice the
   per-connection send queue, ``--subscriber-queue-bytes`` (4 MiB): what the server
   holds for a client that does not read should stay bounded by it. Afterwards the
   flooding connection is read to its end, to tell how the server dealt with it
   (closed it, and with which code, or kept it and every reply). Meanwhile a second
   client sends a heartbeat every 50 ms: its longest round trip is shown. How much of
   what Python frees the allocator gives back varies from run to run, so this is done
   ``--memory-rounds`` times, each on a new server: the median and the largest growth
   are shown.
2. Connection flood. ``--idle`` connections that never send a byte and
   ``--half-open`` ones that send half a WebSocket upgrade and stop are opened and
   held (those the server closes are reopened before each round, as an attacker
   would). A client with the token then connects to ``/ws/claude`` and completes a
   prompt (the agent prints ``--lines`` lines). The same is timed, alternating, on a
   second server that nobody floods: the same-run baseline. The best and median of
   ``--rounds`` are shown, and their ratio.
"""

import argparse
import asyncio
import contextlib
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from bench.processes import launched, open_fds, raise_open_files, rss_kib, serve_argv

HERE = Path(__file__).resolve().parent
AGENT = HERE / "flood_agent.py"
TOKEN = "bench"
DEFAULT_QUEUE_BYTES = 4 * 1024 * 1024
"""The server's --subscriber-queue-bytes default, which this benchmark leaves as is."""

STEP_TIMEOUT = 60.0
"""The longest any one step (a message, a prompt, a refill) may take."""
DRAIN_TIMEOUT = 60.0
SAMPLE_INTERVAL = 0.01
PROBE_INTERVAL = 0.05
SETTLE_SECONDS = 1.0
QUIET_SECONDS = 2.0
STALL_SECONDS = 5.0
"""A message the server takes no byte of for this long ends the memory flood."""
CONNECT_TIMEOUT = 5.0
HALF_UPGRADE = (
    b"GET /ws/claude HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
)
"""Half a WebSocket upgrade: the key, the version and the blank line never come."""


# -- processes ---------------------------------------------------------------------------------


@dataclass
class Server:
    process: "subprocess.Popen[str]"
    port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def ws(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}?token={TOKEN}"

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@contextlib.contextmanager
def serving(tmp: Path, name: str, lines: int) -> Iterator[Server]:
    """``switchboard serve`` with its defaults, on a free loopback port."""
    data = tmp / name
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env["FLOOD_LINES"] = str(lines)
    argv = [*serve_argv(data / "data", TOKEN, AGENT, data), "--workdir", str(data)]
    log_path = data / "server.log"
    with launched(name, argv, log_path, " listening on ", env) as (process, line):
        yield Server(process, int(line.rsplit(":", 1)[1]), log_path)


# -- 1. memory under a client that does not read ----------------------------------------------


@dataclass
class MemoryResult:
    message_bytes: int
    sent: int = 0
    before_kib: int = 0
    peak_kib: int = 0
    after_kib: int = 0
    send_error: str = ""
    close_code: int | None = None
    close_reason: str = ""
    replies: dict[str, int] = field(default_factory=dict)
    reply_bytes: int = 0
    probe_rtts: list[float] = field(default_factory=list)
    reset: bool = False

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.before_kib) / 1024

    @property
    def outcome(self) -> str:
        if self.close_code is not None:
            return f"closed it with {self.close_code} {self.close_reason!r}"
        if self.reset:
            return "reset it (no close frame reached the client)"
        return "kept it open"


class RawClient:
    """A WebSocket client on a blocking socket (websockets' sans-I/O core): it reads
    nothing unless asked, so the server sees a client that stopped reading."""

    def __init__(self, url: str) -> None:
        uri = parse_uri(url)
        self.protocol = ClientProtocol(uri, max_size=None)
        self.sock = socket.create_connection((uri.host, uri.port), timeout=STEP_TIMEOUT)
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while not any(isinstance(e, Response) for e in self._receive()):
            pass
        if self.protocol.handshake_exc is not None:
            raise self.protocol.handshake_exc

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def read_to_end(self, seconds: float) -> list[Frame]:
        """Frames until the server closes, or sends nothing for QUIET_SECONDS (or
        ``seconds`` pass)."""
        frames: list[Frame] = []
        deadline = time.monotonic() + seconds
        self.sock.settimeout(QUIET_SECONDS)
        while time.monotonic() < deadline:
            try:
                events = self._receive()
            except TimeoutError:
                break
            frames.extend(e for e in events if isinstance(e, Frame))
            if any(f.opcode is Opcode.CLOSE for f in frames) or self.protocol.close_rcvd:
                break
            if self._eof:
                break
        return frames

    _eof = False
    reset = False
    """The server reset the connection (it closed it with data of ours unread)."""

    def _receive(self) -> list[object]:
        try:
            data = self.sock.recv(1 << 20)
        except ConnectionResetError:
            self.reset = True
            data = b""
        if data:
            self.protocol.receive_data(data)
        else:
            self._eof = True
            self.protocol.receive_eof()
        events: list[object] = list(self.protocol.events_received())
        self._flush()  # pongs, the close reply
        return events

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.sock.sendall(chunk)

    def close(self) -> None:
        self.sock.close()


def heartbeat_of(size: int, index: int) -> str:
    head = f'{{"type":"heartbeat","id":"{index:08d}'
    tail = '"}'
    return head + "x" * max(0, size - len(head) - len(tail)) + tail


async def sample_rss(pid: int, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kib(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_INTERVAL)


async def probe(server: Server, rtts: list[float], stop: asyncio.Event) -> None:
    """A neighbour: a heartbeat every PROBE_INTERVAL, timing each round trip."""
    async with websockets.connect(server.ws("/ws"), max_size=None) as ws:
        await ws.recv()  # connected
        while not stop.is_set():
            started = time.monotonic()
            await ws.send('{"type":"heartbeat","id":"probe"}')
            async with asyncio.timeout(STEP_TIMEOUT):
                while json.loads(await ws.recv()).get("id") != "probe":
                    pass
            rtts.append(time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PROBE_INTERVAL)


def flood(client: RawClient, result: MemoryResult, messages: int) -> None:
    client.sock.settimeout(STALL_SECONDS)
    for index in range(messages):
        try:
            client.send_text(heartbeat_of(result.message_bytes, index))
        except TimeoutError:
            result.send_error = f"the server stopped reading for {STALL_SECONDS:g} s"
            return
        except OSError as exc:  # the server closed the connection
            result.send_error = f"{type(exc).__name__}: {exc}"
            return
        result.sent += 1


def tally(result: MemoryResult, frames: list[Frame]) -> None:
    for frame in frames:
        if frame.opcode is Opcode.CLOSE:
            code = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 1005
            result.close_code = code
            result.close_reason = bytes(frame.data[2:]).decode(errors="replace")
        elif frame.opcode is Opcode.TEXT:
            result.reply_bytes += len(frame.data)
            try:
                kind = str(json.loads(bytes(frame.data)).get("type"))
            except ValueError:
                kind = "not JSON"
            result.replies[kind] = result.replies.get(kind, 0) + 1


async def run_memory(tmp: Path, args: argparse.Namespace, name: str) -> MemoryResult:
    result = MemoryResult(args.message_bytes)
    with serving(tmp, name, args.lines) as server:
        warm = await asyncio.to_thread(RawClient, server.ws("/ws"))  # code paths, 1 MB parses
        for index in range(3):
            await asyncio.to_thread(warm.send_text, heartbeat_of(args.message_bytes, index))
        await asyncio.to_thread(warm.read_to_end, 0.5)
        warm.close()
        client = await asyncio.to_thread(RawClient, server.ws("/ws"))
        await asyncio.sleep(SETTLE_SECONDS)
        result.before_kib = rss_kib(server.pid)
        peak = [result.before_kib]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(server.pid, peak, stop))
        prober = asyncio.create_task(probe(server, result.probe_rtts, stop))
        try:
            await asyncio.wait_for(
                asyncio.to_thread(flood, client, result, args.messages),
                STEP_TIMEOUT + args.messages,
            )
            await asyncio.sleep(SETTLE_SECONDS)  # what the server does with the last ones
        finally:
            stop.set()
            await asyncio.gather(sampler, prober)
        result.peak_kib = peak[0]
        frames = await asyncio.to_thread(client.read_to_end, DRAIN_TIMEOUT)
        tally(result, frames)
        result.reset = client.reset
        client.close()
        await asyncio.sleep(SETTLE_SECONDS)
        result.after_kib = rss_kib(server.pid)
    return result


# -- 2. a prompt through a connection flood ----------------------------------------------------


@dataclass
class FloodResult:
    idle: int
    half_open: int
    secs: dict[str, list[float]] = field(default_factory=lambda: {"flooded": [], "quiet": []})
    connect: dict[str, list[float]] = field(default_factory=lambda: {"flooded": [], "quiet": []})
    held: list[int] = field(default_factory=list)
    """Flood connections open at the start of each round (the client's view)."""
    server_fds: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    """Flood connections the server had closed since the round before, reopened."""


class Flood:
    """Idle and half-open connections to one server, held open."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.socks: dict[socket.socket, bytes] = {}
        self.poller = select.poll()

    def open(self, greeting: bytes) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=CONNECT_TIMEOUT)
        if greeting:
            sock.sendall(greeting)
        sock.setblocking(False)
        self.socks[sock] = greeting
        self.poller.register(sock, select.POLLIN)

    def fill(self, idle: int, half_open: int) -> None:
        for _ in range(half_open):
            self.open(HALF_UPGRADE)
        for _ in range(idle):
            self.open(b"")

    def refill(self) -> int:
        """Reopen the connections the server closed (or answered: it closes after a
        408); returns how many."""
        closed: list[socket.socket] = []
        by_fd = {sock.fileno(): sock for sock in self.socks}
        for fd, _mask in self.poller.poll(0):
            closed.append(by_fd[fd])
        for sock in closed:
            greeting = self.socks.pop(sock)
            self.poller.unregister(sock)
            sock.close()
            self.open(greeting)
        return len(closed)

    def __len__(self) -> int:
        return len(self.socks)

    def close(self) -> None:
        for sock in self.socks:
            sock.close()
        self.socks.clear()


async def prompt_once(server: Server, lines: int) -> tuple[float, float]:
    """Connect to /ws/claude, prompt, read to the close: (seconds to the info frame,
    seconds in all)."""
    started = time.monotonic()
    frames = 0
    async with asyncio.timeout(STEP_TIMEOUT):
        async with websockets.connect(
            server.ws("/ws/claude"), max_size=None, open_timeout=STEP_TIMEOUT
        ) as ws:
            await ws.recv()  # {"info": ...}
            connected = time.monotonic() - started
            await ws.send(json.dumps({"prompt": "bench", "meta": "BENCH"}))
            with contextlib.suppress(websockets.ConnectionClosedOK):
                async for _ in ws:
                    frames += 1
        if ws.close_code != 1000 or frames < lines:
            raise RuntimeError(
                f"the prompt ended with {ws.close_code} {ws.close_reason!r} after "
                f"{frames}/{lines} lines\n{server.log_tail()}"
            )
    return connected, time.monotonic() - started


async def run_flood(tmp: Path, args: argparse.Namespace) -> FloodResult:
    result = FloodResult(args.idle, args.half_open)
    with serving(tmp, "flooded", args.lines) as flooded, serving(tmp, "quiet", args.lines) as quiet:
        await prompt_once(flooded, args.lines)  # warm both up
        await prompt_once(quiet, args.lines)
        attack = Flood(flooded.port)
        try:
            await asyncio.wait_for(
                asyncio.to_thread(attack.fill, args.idle, args.half_open), STEP_TIMEOUT
            )
            for _ in range(args.rounds):
                reopened = await asyncio.wait_for(asyncio.to_thread(attack.refill), STEP_TIMEOUT)
                result.reopened.append(reopened)
                await asyncio.sleep(SETTLE_SECONDS)  # let the server deal with the reopened
                result.held.append(len(attack) - len(attack.poller.poll(0)))
                result.server_fds.append(open_fds(flooded.pid))
                for name, server in (("flooded", flooded), ("quiet", quiet)):
                    connected, seconds = await prompt_once(server, args.lines)
                    result.connect[name].append(connected)
                    result.secs[name].append(seconds)
        finally:
            attack.close()
    return result


# -- report ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report(memory: list[MemoryResult], flood_result: FloodResult | None, header: str) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    if memory:
        limit_mib = 2 * DEFAULT_QUEUE_BYTES / 1024 / 1024
        growths = [m.growth_mib for m in memory]
        rows.append(
            (
                f"RSS growth, {middle(memory).sent:,} x {memory[0].message_bytes:,} B unread (MiB)",
                f"{statistics.median(growths):.1f}",
                "",
                "",
                f"<= {limit_mib:.1f} (2 x queue); median of {len(growths)}, max {max(growths):.1f}",
            )
        )
    if flood_result is not None:
        r = flood_result
        label = f"{r.idle:,} idle + {r.half_open:,} half-open held"
        for what, series in (("prompt", r.secs), ("connect", r.connect)):
            best_f, best_q = min(series["flooded"]), min(series["quiet"])
            med_f, med_q = statistics.median(series["flooded"]), statistics.median(series["quiet"])
            rows.append(
                (
                    f"{what}, {label} (ms)",
                    ms(med_f),
                    ms(med_q),
                    f"{med_f / med_q:.2f}",
                    f"best {ms(best_f)} / {ms(best_q)}",
                )
            )
    print(f"\n{header}")
    print(f"{'':<58}{'measured':>10}{'baseline':>10}{'ratio':>8}  notes")
    for name, measured, baseline, ratio, notes in rows:
        print(f"{name:<58}{measured:>10}{baseline:>10}{ratio:>8}  {notes}")
    details(memory, flood_result)


def middle(memory: list[MemoryResult]) -> MemoryResult:
    """The round of median growth."""
    return sorted(memory, key=lambda m: m.growth_mib)[len(memory) // 2]


def details(memory: list[MemoryResult], flood_result: FloodResult | None) -> None:
    if memory:
        m = middle(memory)
        replies = ", ".join(f"{n:,} {kind}" for kind, n in sorted(m.replies.items())) or "none"
        stopped = f"; sending then failed ({m.send_error})" if m.send_error else ""
        rtts = m.probe_rtts or [0.0]
        rounds = " ".join(f"{r.before_kib:,}/{r.peak_kib:,}/{r.after_kib:,}" for r in memory)
        print(
            f"\nmemory, each round on a new server: VmRSS KiB before/peak/after the client "
            f"left: {rounds}\n"
            f"  the median round: sent {m.sent:,} messages{stopped}; the server {m.outcome}; "
            f"the client then read {m.reply_bytes / 1024 / 1024:.1f} MiB of replies "
            f"({replies})\n"
            f"  neighbour heartbeat round trips during the flood: max {ms(max(rtts))} ms, "
            f"median {ms(statistics.median(rtts))} ms ({len(m.probe_rtts)} probes)"
        )
    if flood_result is not None:
        r = flood_result
        print(
            f"\nflood rounds (ms, connect + prompt): flooded "
            f"{' '.join(ms(s) for s in r.secs['flooded'])} | quiet "
            f"{' '.join(ms(s) for s in r.secs['quiet'])}\n"
            f"  flood connections open at each round: {' '.join(map(str, r.held))} of "
            f"{r.idle + r.half_open:,}; reopened before each round (the server had closed "
            f"them): {' '.join(map(str, r.reopened))}; the flooded server's open fds: "
            f"{' '.join(map(str, r.server_fds))}"
        )


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--messages", type=int, default=64, help="unread messages sent")
    parser.add_argument("--message-bytes", type=int, default=1_000_000)
    parser.add_argument("--idle", type=int, default=2000, help="idle connections held")
    parser.add_argument("--half-open", type=int, default=500, help="half-sent upgrades held")
    parser.add_argument("--rounds", type=int, default=10, help="prompts timed, each way")
    parser.add_argument(
        "--memory-rounds",
        type=int,
        default=5,
        help="memory floods, each on a new server (the allocator makes one noisy)",
    )
    parser.add_argument("--lines", type=int, default=100, help="lines the prompt's run prints")
    parser.add_argument(
        "--parts", default="memory,flood", help="which parts to run (memory, flood)"
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, parts: set[str]) -> None:
    started = time.monotonic()
    memory: list[MemoryResult] = []
    flood_result: FloodResult | None = None
    with tempfile.TemporaryDirectory(prefix="switchboard-stress-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "memory" in parts:
            for index in range(args.memory_rounds):
                memory.append(await run_memory(tmp, args, f"memory{index}"))
        if "flood" in parts:
            flood_result = await run_flood(tmp, args)
    header = (
        f"stress benchmark: {os.cpu_count()} CPUs, {args.rounds} rounds, "
        f"{time.monotonic() - started:.0f} s"
    )
    report(memory, flood_result, header)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    unknown = parts - {"memory", "flood"}
    if unknown:
        print(f"unknown parts: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    wanted = 2 * (args.idle + args.half_open) + 256
    limit = raise_open_files(wanted)
    if limit < args.idle + args.half_open + 128:
        print(f"open files limit {limit} is too low for the flood", file=sys.stderr)
        return 2
    asyncio.run(run(args, parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
