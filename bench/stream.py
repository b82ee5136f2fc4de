"""Streaming throughput: one agent's stdout lines to one WebSocket client.

    ./scripts/bench            (or: .venv/bin/python bench/stream.py --lines 200000)

The same program (bench/flood_agent.py) is streamed line by line to the same Python
client by Switchboard's /ws/claude and by websocketd (Debian's package, the baseline),
alternating, in one run. Prints lines/s for each and the ratio; the best of
``--rounds`` is kept for each, since this machine is shared and noisy.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import websockets

HERE = Path(__file__).resolve().parent
AGENT = HERE / "flood_agent.py"
READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_listening(port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port}")


async def count_frames(url: str, prompt: str | None) -> tuple[int, float]:
    """Connect, (send the prompt,) count text frames until the close. Returns (n, secs)."""
    started = time.perf_counter()
    count = 0
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        if prompt is not None:
            await ws.recv()  # {"info": ...}
            await ws.send(prompt)
        with contextlib.suppress(websockets.ConnectionClosed):  # websocketd sends no close frame
            async for _ in ws:
                count += 1
    return count, time.perf_counter() - started


@contextlib.contextmanager
def switchboard(lines: int) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "FLOOD_LINES": str(lines)}
        argv = [
            sys.executable,
            "-m",
            "switchboard",
            "serve",
            "--port",
            "0",
            "--data-dir",
            data,
            "--token",
            "bench",
            "--claude-bin",
            str(AGENT),
            "--log-level",
            "warning",
        ]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[-1].replace("http://", "ws://")
            yield f"{url}/ws/claude?token=bench"
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            if proc.stdout:
                proc.stdout.close()


@contextlib.contextmanager
def websocketd(binary: str, lines: int, port: int) -> Iterator[str]:
    argv = [
        binary,
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--loglevel",
        "error",
        sys.executable,
        str(AGENT),
        str(lines),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        yield f"ws://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def agent_alone(lines: int) -> float:
    """The program writing to a pipe that is read and discarded: the ceiling."""
    started = time.perf_counter()
    subprocess.run([sys.executable, str(AGENT), str(lines)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


async def measure(lines: int, rounds: int, websocketd_bin: str) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"switchboard": [], "websocketd": [], "agent alone": []}
    prompt = json.dumps({"prompt": "bench", "meta": "BENCH"})
    port = free_port()
    with switchboard(lines) as sb_url, websocketd(websocketd_bin, lines, port) as wd_url:
        await wait_listening(port)
        for _ in range(rounds):
            count, secs = await count_frames(sb_url, prompt)
            assert count == lines, f"switchboard delivered {count}/{lines}"
            results["switchboard"].append(secs)
            count, secs = await count_frames(wd_url, None)
            assert count == lines, f"websocketd delivered {count}/{lines}"
            results["websocketd"].append(secs)
            results["agent alone"].append(agent_alone(lines))
    return results


def report(lines: int, results: dict[str, list[float]]) -> None:
    best = {name: min(times) for name, times in results.items()}
    print(f"\n{lines:,} lines, one client, best of {len(results['switchboard'])} rounds")
    print(f"{'variant':<14}{'best s':>10}{'lines/s':>14}   all rounds (s)")
    for name, secs in best.items():
        rounds = " ".join(f"{t:.3f}" for t in results[name])
        print(f"{name:<14}{secs:>10.3f}{lines / secs:>14,.0f}   {rounds}")
    ratio = best["websocketd"] / best["switchboard"]
    median = statistics.median(results["websocketd"]) / statistics.median(results["switchboard"])
    print(
        f"\nratio switchboard / websocketd (lines/s): best {ratio:.2f}, median {median:.2f}"
        "  (target >= 1.00, median)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    binary = shutil.which("websocketd")
    if binary is None:
        print(
            "websocketd not found: install Debian's package (apt-get install websocketd) "
            "or run ./scripts/bench, which does.",
            file=sys.stderr,
        )
        return 2
    results = asyncio.run(measure(args.lines, args.rounds, binary))
    report(args.lines, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
