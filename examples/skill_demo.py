"""A skill that reports its progress to Switchboard and asks a person twice.

Embedded (the server runs inside this program, on its event loop):

    python examples/skill_demo.py embedded --data-dir /tmp/sb-demo --project .

From another process, with a token of scope ``produce`` (``switchboard token create``):

    python examples/skill_demo.py remote --server http://127.0.0.1:9876 \\
        --token sbp_... --project .

Watch and answer from any client subscribed to the project, e.g.
``switchboard tail PROJECT`` and ``switchboard answer PROJECT ID ship``. The program
prints one JSON line per step of its life: ``ready`` (embedded: URL and token),
``answer`` for each question, ``done``.
"""

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from switchboard.embed import start_switchboard, stop_switchboard
from switchboard.producer import RemoteProducer
from switchboard.skill_reporter import SkillReporter


def say(**line: Any) -> None:
    print(json.dumps(line), flush=True)


async def deploy(skills: SkillReporter, seconds_per_question: float) -> None:
    """A skill's flow: pick a skill, run its steps, heal a failure, ask a person."""
    await skills.memory_query_started("q1", "how do we deploy?", sources=["runbooks"])
    await skills.memory_query_completed(
        "q1", intent="deploy", sources=["runbooks"], result_count=2, latency_ms=12.5
    )
    await skills.intent_classified("deploy", confidence=0.93, query_id="q1")
    await skills.skill_started("deploy-1", "deploy", ["build", "test", "ship"], source="demo")
    await skills.step_started("deploy-1", 0, "build")
    await skills.step_completed("deploy-1", 0, "build", duration_ms=1200)
    await skills.step_started("deploy-1", 1, "test")
    await skills.step_failed("deploy-1", 1, "test", "2 tests failed")
    await skills.auto_heal_triggered("deploy-1", 1, "flaky_test", "re-run the failed tests")
    await skills.auto_heal_completed("deploy-1", 1, "re-run the failed tests", success=True)
    await skills.step_completed("deploy-1", 1, "test", duration_ms=3400)
    await skills.step_started("deploy-1", 2, "ship")
    for question, options in (
        ("Ship build 1.4.2 to production?", ["ship", "wait"]),
        ("Tell the team in #deploys?", ["tell", "stay quiet"]),
    ):
        answer = await skills.request_confirmation(
            "deploy-1",
            2,
            question,
            options,
            claude_suggestion=options[0],
            timeout_seconds=seconds_per_question,
        )
        say(event="answer", question=question, **answer)
    await skills.step_completed("deploy-1", 2, "ship", duration_ms=800)
    await skills.skill_completed("deploy-1", duration_ms=5400)


async def embedded(args: argparse.Namespace) -> None:
    # Its server serves this one project: /ws clients may add no other directory.
    switchboard = await start_switchboard(
        data_dir=args.data_dir, port=args.port, allowed_roots=(Path(args.project),)
    )
    try:
        project = await switchboard.add_project(args.project, exist_ok=True)
        say(event="ready", url=switchboard.url, token=switchboard.token, project=project.id)
        await deploy(switchboard.skills(project.id), args.timeout)
    finally:
        await stop_switchboard()


async def remote(args: argparse.Namespace) -> None:
    async with await RemoteProducer.connect(args.server, args.token) as producer:
        say(event="ready", url=args.server)
        await deploy(producer.skills(args.project), args.timeout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    inside = modes.add_parser("embedded", help="run the server in this program")
    inside.add_argument("--data-dir", type=Path, required=True)
    inside.add_argument("--port", type=int, default=9876, help="0: any free port")
    outside = modes.add_parser("remote", help="publish to a running server")
    outside.add_argument("--server", required=True)
    outside.add_argument("--token", required=True)
    for mode in (inside, outside):
        mode.add_argument("--project", required=True, help="the project's path (or name)")
        mode.add_argument("--timeout", type=float, default=600.0, help="seconds per question")
    args = parser.parse_args()
    asyncio.run(embedded(args) if args.mode == "embedded" else remote(args))
    say(event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
