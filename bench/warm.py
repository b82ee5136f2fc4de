"""Warm-session benchmark (P6): how much sooner a prompt reaches its first CLI event when
the project's CLI process is already up than when it has to be spawned.

    ./scripts/bench warm       (or: .venv/bin/python -m bench.warm)

The real bundled Claude Code CLI runs against the scripted model
(:mod:`switchboard.scripted_model`, a loopback stand-in for the Messages API that
answers every turn with a short text). One hub, one project, one client subscribed to
it. Rounds alternate:

- **cold**: the hub has stopped the project's CLI (``--idle-timeout`` passed with no
  run), so the prompt spawns a new process, which resumes the project's session;
- **warm**: the prompt follows the previous run at once, into the process that ran it.

Each round measures, from sending the prompt: its first event of kind ``cli`` (a line
the CLI printed) and the run's end. The ratio cold/warm is how much the warm process
saves. Bounded in count and time; every process is started and stopped here.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.hub import bench_env
from bench.processes import launched, serve_argv
from switchboard.agents.claude.discovery import bundled_claude
from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer, cli_environment

TOKEN = "bench-warm"
RUN_TIMEOUT = 120.0
IDLE_MARGIN = 2.0
"""Seconds past ``--idle-timeout`` before a cold round: the hub has stopped the CLI."""


@dataclass
class Timings:
    first_event: list[float] = field(default_factory=list)
    run: list[float] = field(default_factory=list)


async def one_run(client: SwitchboardClient, project: str) -> tuple[float, float]:
    """Prompt; seconds to the run's first CLI event, and to its end."""
    started = time.monotonic()
    run = await client.prompt(project, "Say something short.")
    first = 0.0
    async with asyncio.timeout(RUN_TIMEOUT):
        async for message in client.messages():
            if message["type"] != "event" or message["run"] != run["id"]:
                continue
            if message["kind"] == "cli" and not first:
                first = time.monotonic() - started
            data = message["data"]
            if message["kind"] == "run" and data["state"] not in ("queued", "running"):
                if data["state"] != "completed":
                    raise RuntimeError(f"run ended {data['state']}: {data.get('error')}")
                break
    return first, time.monotonic() - started


async def measure(args: argparse.Namespace, claude: Path) -> dict[str, Timings]:
    results = {"cold": Timings(), "warm": Timings()}
    script = Script.of(*({"text": f"Reply {n}."} for n in range(2 * args.rounds + 2)))
    with (
        tempfile.TemporaryDirectory(prefix="switchboard-warm-bench-") as tmp_name,
        ScriptedModelServer(script) as model,
    ):
        tmp = Path(tmp_name)
        for name in ("home", "data", "project"):
            (tmp / name).mkdir()
        env = cli_environment(model.url, tmp / "home", bench_env())
        argv = [*serve_argv(tmp / "data", TOKEN, claude, tmp), "--idle-timeout", str(args.idle)]
        with launched("the hub", argv, tmp / "hub.log", " listening on ", env) as (_, line):
            async with await SwitchboardClient.connect(line.split()[-1], TOKEN) as client:
                project = (await client.add_project(str(tmp / "project")))["id"]
                await client.subscribe(project)
                await one_run(client, project)  # the session exists from now on
                for _ in range(args.rounds):
                    await asyncio.sleep(args.idle + IDLE_MARGIN)
                    for mode in ("cold", "warm"):
                        first, whole = await one_run(client, project)
                        results[mode].first_event.append(first)
                        results[mode].run.append(whole)
    return results


def report(results: dict[str, Timings], args: argparse.Namespace) -> None:
    cold, warm = results["cold"], results["warm"]
    print(
        f"P6, prompt -> first CLI event, bundled CLI and the scripted model: {os.cpu_count()} "
        f"CPUs, {args.rounds} rounds, cold (spawn, resume) then warm (the same process)"
    )
    print(f"{'':36}{'cold':>10}{'warm':>10}{'cold/warm':>12}")
    for name, attribute in (("first CLI event", "first_event"), ("whole run", "run")):
        c = statistics.median(getattr(cold, attribute))
        w = statistics.median(getattr(warm, attribute))
        print(f"{name + ', ms (median)':36}{c * 1000:>10.0f}{w * 1000:>10.0f}{c / w:>12.1f}")
    rounds = {m: [round(s * 1000) for s in t.first_event] for m, t in results.items()}
    print(f"rounds, first event (ms): cold {rounds['cold']}, warm {rounds['warm']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--idle", type=float, default=1.0, help="the hub's --idle-timeout, in seconds"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    claude = bundled_claude()
    if claude is None:
        print(
            "the bundled Claude Code CLI is missing: pip install the test extras", file=sys.stderr
        )
        return 2
    report(asyncio.run(measure(args, claude)), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
