"""Runs on a remote agent against local runs, in one hub, in the same run.

    ./scripts/bench agent      (or: .venv/bin/python -m bench.agent)

One hub (``switchboard serve``) and one agent (``switchboard agent``, a separate process
with its own HOME and data dir) on this machine; both run bench/stamp_agent.py as their
CLI, which prints lines stamped with the time they were printed. A client subscribed to
a local project and to a project on the agent measures, alternately, round by round:

- **throughput**: a burst of ``--lines`` lines, from the first received to the last;
- **latency**: ``--paced`` lines at ``--rate`` lines a second, from a line printed to the
  line received by the client (p50 and p99), and what the agent adds to local (ratio).

Every line goes through the hub's log in both cases; an agent's also through its link
(and spool). Bound in count and time; the machine is shared, so read the ratios.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import launched, serve_argv
from switchboard.client import SwitchboardClient

HERE = Path(__file__).resolve().parent
CLI = HERE / "stamp_agent.py"
TOKEN = "bench-agent-token"
RUN_TIMEOUT = 300.0


@dataclass
class Measured:
    rates: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)


def bench_env(home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.pop("CLAUDECODE", None)
    if home is not None:
        env["HOME"] = str(home)
    return env


@asynccontextmanager
async def hub_and_agent(tmp: Path) -> AsyncIterator[tuple[SwitchboardClient, str, str]]:
    """The hub, the agent, and a client subscribed to a local and a remote project."""
    for name in ("local", "remote", "agent-home", "hub-data"):
        (tmp / name).mkdir()
    argv = serve_argv(tmp / "hub-data", TOKEN, CLI, tmp)
    with launched("the hub", argv, tmp / "hub.log", " listening on ", bench_env()) as (_, line):
        url = line.split()[-1]
        async with await SwitchboardClient.connect(url, TOKEN) as client:
            secret = (await client.request("token.create", name="box", scope="agent"))["secret"]
            agent_env = {**bench_env(tmp / "agent-home"), "SWITCHBOARD_AGENT_TOKEN": secret}
            agent = start_agent(url, tmp, agent_env)
            try:
                await until_online(client)
                local = await client.add_project(str(tmp / "local"))
                remote = await client.add_project(str(tmp / "remote"), None, "box")
                for project in (local, remote):
                    await client.subscribe(project["id"])
                yield client, local["id"], remote["id"]
            finally:
                agent.terminate()
                try:
                    agent.wait(15)
                except subprocess.TimeoutExpired:
                    agent.kill()
                    agent.wait()


def start_agent(url: str, tmp: Path, env: dict[str, str]) -> "subprocess.Popen[bytes]":
    """``switchboard agent`` for the hub at ``url``, its log in ``tmp``."""
    with (tmp / "agent.log").open("w") as log:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "switchboard", "agent", "--server", url),
                *("--allowed-root", str(tmp), "--claude-bin", str(CLI)),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def until_online(client: SwitchboardClient) -> None:
    async with asyncio.timeout(60):
        async for message in client.messages():
            if message["type"] == "agent_status" and message["agent"]["online"]:
                return


async def one_run(
    client: SwitchboardClient, project: str, text: str
) -> tuple[int, float, list[float]]:
    """Prompt, and read the run's lines: how many, how long from first to last, and
    each one's delay from print to receipt (ms)."""
    run = await client.prompt(project, text)
    first = last = 0.0
    delays: list[float] = []
    async with asyncio.timeout(RUN_TIMEOUT):
        async for message in client.messages():
            if message["type"] != "event" or message["run"] != run["id"]:
                continue
            data = message["data"]
            if message["kind"] == "run" and data["state"] not in ("queued", "running"):
                break
            if message["kind"] != "cli" or data["type"] != "assistant":
                continue
            now = time.time()
            stamp = float(data["message"]["content"][0]["text"].split()[1])
            delays.append((now - stamp) * 1000)
            first = first or time.monotonic()
            last = time.monotonic()
    return len(delays), last - first, delays


async def measure(args: argparse.Namespace) -> dict[str, Measured]:
    results = {"local": Measured(), "agent": Measured()}
    with tempfile.TemporaryDirectory(prefix="switchboard-agent-bench-") as tmp_name:
        async with hub_and_agent(Path(tmp_name)) as (client, local, remote):
            for project in (local, remote):  # warm both up
                await one_run(client, project, "100")
            for _ in range(args.rounds):
                for mode, project in (("local", local), ("agent", remote)):
                    count, seconds, _ = await one_run(client, project, str(args.lines))
                    assert count == args.lines, (mode, count)
                    results[mode].rates.append(count / seconds if seconds else 0.0)
                    paced = f"{args.paced}@{args.rate}"
                    count, _, delays = await one_run(client, project, paced)
                    assert count == args.paced, (mode, count)
                    results[mode].latencies_ms.extend(delays)
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: dict[str, Measured], args: argparse.Namespace) -> None:
    local, agent = results["local"], results["agent"]
    rate = {mode: statistics.median(m.rates) for mode, m in results.items()}
    p50 = {mode: percentile(m.latencies_ms, 0.50) for mode, m in results.items()}
    p99 = {mode: percentile(m.latencies_ms, 0.99) for mode, m in results.items()}
    print(
        f"agent benchmark: {os.cpu_count()} CPUs, {args.rounds} rounds of a {args.lines}-line "
        f"burst and {args.paced} lines at {args.rate:g}/s, each mode alternately"
    )
    print(f"{'':40}{'local':>12}{'agent':>12}{'agent/local':>14}")
    print(
        f"{'throughput, lines/s (median)':40}{rate['local']:>12,.0f}{rate['agent']:>12,.0f}"
        f"{rate['agent'] / rate['local']:>14.2f}"
    )
    for name, values in (("p50", p50), ("p99", p99)):
        print(
            f"{'latency ' + name + ', line printed to received (ms)':40}"
            f"{values['local']:>12.2f}{values['agent']:>12.2f}"
            f"{values['agent'] / values['local']:>14.2f}"
        )
    added = {
        name: values["agent"] - values["local"] for name, values in (("p50", p50), ("p99", p99))
    }
    print(f"added by the agent: p50 {added['p50']:+.2f} ms, p99 {added['p99']:+.2f} ms")
    rounds = {mode: [round(r) for r in m.rates] for mode, m in (("local", local), ("agent", agent))}
    print(f"rounds, lines/s: local {rounds['local']}, agent {rounds['agent']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000, help="lines in a burst")
    parser.add_argument("--paced", type=int, default=1000, help="lines in a paced run")
    parser.add_argument("--rate", type=float, default=500.0, help="lines a second, paced")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report(asyncio.run(measure(args)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
