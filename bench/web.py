"""Web UI benchmark: opening and scrolling a long history in Chromium.

    ./scripts/bench web        (or: .venv/bin/python -m bench.web --runs 1000)

1. Record. One real run is made with the bundled Claude CLI against the scripted model
   (a Read, an Edit under ``acceptEdits`` and a Markdown answer with code), through
   ``switchboard serve``; its stored events are the template of a run.
2. Fill. A fresh data dir gets a "long" project of ``--runs`` copies of that run and a
   "short" one of ``--short-runs`` copies (ids of runs, messages and tool uses made
   unique per copy), written with the store's own classes; then the server starts on it.
3. Measure, in Debian's Chromium (headless, via Playwright), best of ``--rounds``:
   - open: a fresh page clicks the project and is timed (``performance.now()`` in the
     page) until the conversation has applied the project's last event and shows every
     run's summary. Baseline: a Python client subscribing from seq 0 to the same
     project on the same server until its ``caught_up`` (the wire and the store alone).
     Also: the same per run for the short project (does a long history cost more than
     its share?).
   - scroll: the conversation is scrolled ``--scroll-frames`` times by 1500 px per
     animation frame (wrapping to the top), and the frame intervals are recorded. Baseline:
     the same on the short project, in the same browser.
   - size: DOM elements and JS heap after opening.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.hub import Server, serving
from switchboard.agents.claude.discovery import bundled_claude
from switchboard.client import SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer, cli_environment
from switchboard.store.offline import write_project
from switchboard.store.records import NewEvent, ProjectRecord

TOKEN = "bench"
RECORD_TIMEOUT = 120.0
OPEN_TIMEOUT = 600.0
SCROLL_STEP_PX = 1500
FILL_BATCH = 5000
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ANSWER = """Done: the typo is fixed. **Here is what changed**, and how to check it:

1. `notes.md` now says *gamma* where it said *beta*.
2. Nothing else was touched.

```python
from pathlib import Path

def check(path: Path) -> bool:
    return "gamma" in path.read_text()
```

| file | before | after |
|---|---|---|
| notes.md | beta | gamma |
"""
UNIQUE_PER_COPY = re.compile(r"\b(toolu_[A-Za-z0-9]+|msg_[A-Za-z0-9]+)")

OPEN_PROJECT = """async ([id, head, runs]) => {
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    const started = performance.now();
    document.querySelector(`.project[data-project='${id}']`).click();
    for (;;) {
        const conversation = document.querySelector(".conversation");
        const summaries = document.querySelectorAll(".conversation .run-summary").length;
        if (conversation?.dataset.lastSeq === String(head) && summaries === runs) break;
        await frame();
    }
    await frame();  // and painted
    return performance.now() - started;
}"""

BUILT = """async () => {
    // Older runs' bodies are built after the open, in idle time: until when?
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    const started = performance.now();
    while (document.querySelector(".conversation .run[data-waiting]") !== null) await frame();
    return performance.now() - started;
}"""

SCROLL = """async ([frames, step]) => {
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    const scroller = document.querySelector(".scroller");
    scroller.scrollTop = 0;
    await frame();
    let last = await frame();
    const intervals = [];
    for (let i = 0; i < frames; i++) {
        const end = scroller.scrollHeight - scroller.clientHeight;
        scroller.scrollTop = scroller.scrollTop >= end ? 0 : scroller.scrollTop + step;
        const now = await frame();
        intervals.push(now - last);
        last = now;
    }
    return { intervals, height: scroller.scrollHeight };
}"""

SIZE = """() => ({
    elements: document.getElementsByTagName("*").length,
    heap: performance.memory ? performance.memory.usedJSHeapSize : 0,
})"""


@dataclass
class Project:
    id: str
    runs: int
    head: int


@dataclass
class Measured:
    open_ms: float
    built_ms: float
    wire_ms: float
    frame_ms: list[float]
    height: int
    elements: int
    heap_bytes: int


# -- recording one real run --------------------------------------------------------------


def serve(
    data_dir: Path, log_path: Path, env: dict[str, str] | None = None
) -> AbstractContextManager[Server]:
    claude = bundled_claude()
    if claude is None:
        raise SystemExit("the bundled Claude CLI is missing: run ./scripts/test once")
    argv = [sys.executable, "-m", "switchboard", "serve", "--host", "127.0.0.1"]
    argv += ["--port", "0", "--data-dir", str(data_dir), "--token", TOKEN]
    argv += ["--claude-bin", str(claude), "--log-level", "warning"]
    argv += ["--allowed-root", str(data_dir.parent)]  # where its projects are, not $HOME
    return serving("switchboard", argv, log_path, " listening on ", env)


async def record_run(tmp: Path) -> list[tuple[str, dict[str, Any]]]:
    """One real run's stored events, as (kind, data)."""
    project_dir = tmp / "recorded"
    project_dir.mkdir()
    notes = project_dir / "notes.md"
    notes.write_text("# Notes\n\nalpha\nbeta\n")
    home = tmp / "home"
    home.mkdir()
    script = Script.of(
        {
            "text": "Let me read the notes.",
            "tool_use": {"name": "Read", "input": {"file_path": str(notes)}},
        },
        {
            "text": "I will fix it.",
            "tool_use": {
                "name": "Edit",
                "input": {"file_path": str(notes), "old_string": "beta", "new_string": "gamma"},
            },
        },
        {"text": ANSWER},
    )
    log = tmp / "record.log"
    with (
        ScriptedModelServer(script) as model,
        serve(tmp / "record-data", log, cli_environment(model.url, home, os.environ)) as server,
    ):
        async with await SwitchboardClient.connect(server.url, TOKEN) as client:
            project = await client.add_project(str(project_dir))
            await client.request("permission_mode.set", project=project["id"], mode="acceptEdits")
            await client.subscribe(project["id"])
            run = await client.prompt(project["id"], "Fix the typo in notes.md")
            events = await events_of(client, run["id"])
    if "gamma" not in notes.read_text():
        raise SystemExit("the recorded run did not make its edit; see record.log")
    return events


async def events_of(client: SwitchboardClient, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    async with asyncio.timeout(RECORD_TIMEOUT):
        async for message in client.messages():
            if message["type"] != "event" or message.get("run") != run_id:
                continue
            events.append((message["kind"], message["data"]))
            if message["kind"] == "run" and message["data"]["state"] == "completed":
                return events
    raise SystemExit("the recorded run ended without completing")


# -- filling a data dir ------------------------------------------------------------------


def copy_of(template: list[tuple[str, dict[str, Any]]], copy: int) -> list[NewEvent]:
    """The template with its run, message and tool-use ids made unique for ``copy``."""
    [run_id] = {data["id"] for kind, data in template if kind == "run"}
    new_run = uuid.uuid4().hex
    events = []
    for kind, data in template:
        body = json.dumps(data, separators=(",", ":")).replace(run_id, new_run)
        body = UNIQUE_PER_COPY.sub(lambda match: f"{match.group(1)}c{copy}", body)
        events.append(NewEvent(kind, body, new_run))
    return events


async def fill(
    data_dir: Path, tmp: Path, template: list[tuple[str, dict[str, Any]]], runs: dict[str, int]
) -> dict[str, Project]:
    """A project per entry of ``runs`` (directory ``tmp/NAME``), of that many copies of
    the template run."""
    filled: dict[str, Project] = {}
    for name, count in runs.items():

        def batches(_record: ProjectRecord, count: int = count) -> Iterator[list[NewEvent]]:
            per_batch = max(1, FILL_BATCH // max(1, len(template)))
            for first in range(0, count, per_batch):
                last = min(count, first + per_batch)
                yield [event for copy in range(first, last) for event in copy_of(template, copy)]

        record, head = await write_project(data_dir, tmp / name, batches, name)
        filled[name] = Project(record.id, count, head)
    return filled


# -- measuring ---------------------------------------------------------------------------


async def wire_replay_ms(server: Server, project: Project) -> float:
    async with await SwitchboardClient.connect(server.url, TOKEN) as client:
        started = time.perf_counter()
        await client.subscribe(project.id, since=0)
        async with asyncio.timeout(OPEN_TIMEOUT):
            async for message in client.messages():
                if message["type"] == "caught_up" and message.get("project") == project.id:
                    return (time.perf_counter() - started) * 1000
    raise SystemExit("the replay ended without caught_up")


async def open_page(browser: Browser, server: Server) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    base = server.url.replace("ws://", "http://", 1)
    await page.goto(f"{base}/#token={TOKEN}")
    await page.wait_for_selector(".connection:text('connected')")
    return page


async def measure(browser: Browser, server: Server, project: Project, frames: int) -> Measured:
    page = await open_page(browser, server)
    try:
        async with asyncio.timeout(OPEN_TIMEOUT):
            opened = await page.evaluate(OPEN_PROJECT, [project.id, project.head, project.runs])
            built = await page.evaluate(BUILT)
        scrolled = await page.evaluate(SCROLL, [frames, SCROLL_STEP_PX])
        size = await page.evaluate(SIZE)
    finally:
        await page.context.close()
    wire = await wire_replay_ms(server, project)
    return Measured(
        float(opened),
        float(built),
        wire,
        scrolled["intervals"],
        scrolled["height"],
        size["elements"],
        size["heap"],
    )


def best(results: list[Measured]) -> Measured:
    return min(results, key=lambda m: m.open_ms)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(long: Measured, short: Measured, projects: dict[str, Project], header: str) -> None:
    def row(name: str, m: Measured) -> str:
        project = projects[name]
        return (
            f"{name:<6} {project.runs:>6} {project.head:>8} {m.open_ms:>9.0f} {m.wire_ms:>8.0f} "
            f"{m.open_ms / m.wire_ms:>6.2f} {1000 * m.open_ms / project.head:>8.1f} "
            f"{m.built_ms:>8.0f} "
            f"{statistics.median(m.frame_ms):>6.1f} {percentile(m.frame_ms, 0.95):>6.1f} "
            f"{max(m.frame_ms):>6.1f} {m.elements:>9,} {m.heap_bytes / 2**20:>7.1f}"
        )

    print()
    print(header)
    print(
        f"{'':<6} {'runs':>6} {'events':>8} {'open ms':>9} {'wire ms':>8} {'ratio':>6} "
        f"{'µs/event':>8} {'built ms':>8} {'p50 ms':>6} {'p95 ms':>6} {'max ms':>6} "
        f"{'elements':>9} {'heap MB':>7}"
    )
    print(row("long", long))
    print(row("short", short))
    per_event = (long.open_ms / projects["long"].head) / (short.open_ms / projects["short"].head)
    scroll = percentile(long.frame_ms, 0.95) / percentile(short.frame_ms, 0.95)
    print()
    print(
        f"open, long history: {long.open_ms / long.wire_ms:.2f}x the wire replay of the same events"
    )
    print(f"open, cost per event, long / short: {per_event:.2f}")
    print(f"scroll, p95 frame interval, long / short: {scroll:.2f}")


async def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is missing: ./scripts/bench web installs Debian's chromium")
    with tempfile.TemporaryDirectory(prefix="switchboard-web-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print("web: recording one real run ...", flush=True)
        template = await record_run(tmp)
        print(
            f"web: storing {args.runs} + {args.short_runs} runs of {len(template)} events ...",
            flush=True,
        )
        # "a-empty" sorts first, so the page opens it: the click on the measured
        # project is what loads that project's history, and what is timed.
        runs = {"a-empty": 0, "long": args.runs, "short": args.short_runs}
        for directory in ("data", *runs):
            (tmp / directory).mkdir()
        projects = await fill(tmp / "data", tmp, template, runs)
        measured: dict[str, list[Measured]] = {"long": [], "short": []}
        with serve(tmp / "data", tmp / "server.log") as server:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    for round_number in range(args.rounds):
                        for name in ("long", "short"):
                            print(f"web: round {round_number + 1}, {name} ...", flush=True)
                            measured[name].append(
                                await measure(browser, server, projects[name], args.scroll_frames)
                            )
                finally:
                    await browser.close()
    header = (
        f"web UI benchmark: headless Chromium, best of {args.rounds} rounds by open time, "
        f"{args.scroll_frames} scroll frames of {SCROLL_STEP_PX} px, "
        f"{time.monotonic() - started:.0f} s"
    )
    report(best(measured["long"]), best(measured["short"]), projects, header)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in the long history")
    parser.add_argument("--short-runs", type=int, default=10, help="runs in the short one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scroll-frames", type=int, default=300)
    args = parser.parse_args(argv)
    if min(args.runs, args.short_runs, args.rounds, args.scroll_frames) < 1:
        parser.error("every count must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    asyncio.run(run(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
