"""The web UI's finish, in Debian's Chromium against a real server, the real CLI and the
scripted model: the activity line, the CLI's API retries, who answered, and how a
conversation looks (turns, tables, code, long output, a failed run) in light and dark,
at desktop and phone width. Every test fails on any console error in a page."""

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from switchboard.protocol.messages import RunInfo
from switchboard.scripted_model import Script, ScriptedModelServer
from switchboard.store.offline import Batches, write_project
from switchboard.store.records import NewEvent, ProjectRecord
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import connect
from tests.support.server import RunningServer
from tests.support.turns import ASK, TOUCH
from tests.web.pages import (
    DESKTOP,
    PHONE,
    Scheme,
    add_project,
    browsing,
    scripted_page,
    send,
    shoot,
)

pytestmark = pytest.mark.timeout(180)

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
UPDATE_DOC_IMAGES = "SWITCHBOARD_UPDATE_DOC_IMAGES"
"""Set to 1 to copy the screenshots of the look test into docs/images."""

OVERLOADED = {
    "error": {"status": 529, "type": "overloaded_error", "message": "Overloaded", "retryable": True}
}
"""A turn the CLI retries, printing a ``system/api_retry`` line before each attempt."""

COUNT = {"name": "Bash", "input": {"command": "seq 1 200", "description": "Count to 200"}}
"""A read-only command (the CLI runs it without asking) with 200 lines of output."""

TABLE_ANSWER = """The numbers, in two halves:

| range | how many | sum |
|---|---:|---:|
| 1 to 100 | 100 | 5050 |
| 101 to 200 | 100 | 15050 |

```python
print(sum(range(1, 201)))  # 20100
```
"""

API_ERROR = "API Error: 400 the scripted model refuses this one"


@pytest.fixture
def server(servers: ServerFactory, bundled_claude_bin: ClaudeBinary) -> RunningServer:
    return servers.start(bundled_claude_bin.path)


WATCH_ACTIVITY = """() => {
    // Record every text the activity line takes. Each text is a new text node, so the
    // mutation records keep them all, however fast one replaces the other.
    window.__activity = [];
    const line = document.querySelector(".activity");
    new MutationObserver((records) => {
        for (const record of records) {
            for (const node of record.addedNodes) window.__activity.push(node.textContent);
        }
    }).observe(line, { childList: true });
}"""


def in_order(seen: list[str], *patterns: str) -> bool:
    """Whether ``seen`` has texts matching ``patterns``, in that order."""
    position = 0
    for pattern in patterns:
        position = next(
            (i + 1 for i, text in enumerate(seen[position:], position) if re.search(pattern, text)),
            -1,
        )
        if position < 0:
            return False
    return True


async def test_the_activity_line_follows_a_run_and_retries_are_quiet_notes(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    thinking = {"thinking": "The user wants a count; seq prints one number a line. " * 3}
    turns = (
        {**OVERLOADED, "repeat": 2},
        {**thinking, "text": "I will count them.", "tool_use": COUNT, "chunk_delay": 0.03},
        {"tool_use": TOUCH},
        {"text": "Counted, and the file is there.", "chunk_delay": 0.03},
    )
    async with scripted_page(server, project_dir, scripted_model, *turns) as (_pages, page):
        activity = page.locator(".activity")
        await expect(activity).to_have_text("Idle")
        await page.evaluate(WATCH_ACTIVITY)
        await send(page, "count, then create the file")
        await expect(activity).to_have_text(
            "Waiting for your approval to use Bash: touch created.txt"
        )
        await expect(activity).to_have_attribute("data-activity", "approval")
        await page.locator(".approval button.allow").click()
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(activity).to_have_text("Idle")
        seen: list[str] = await page.evaluate("window.__activity")
        assert in_order(
            seen,
            r"^Retrying the API (in \d+ s|now), attempt 1 of 10: overloaded \(529\)$",
            r"^Retrying the API (in \d+ s|now), attempt 2 of 10: overloaded \(529\)$",
            r"^Claude is thinking…$",
            r"^Claude is writing…$",
            r"^Running Bash: seq 1 200$",
            r"^Waiting for your approval to use Bash: touch created\.txt$",
            r"^Claude is writing…$",
            r"^Idle$",
        ), seen
        # The retries are one quiet line in the conversation, in words, not JSON.
        retry = page.locator(".note.retry")
        await expect(retry).to_have_count(1)
        await expect(retry).to_have_text(
            re.compile(r"^↻ API overloaded \(529\): retry 2 of 10 after \d+\.\d s$")
        )
        shown = await page.locator(".conversation").inner_text()
        assert "api_retry" not in shown and "{" not in shown


async def test_the_activity_line_shows_a_run_waiting_in_the_queue(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    tmp_path: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    """One run at a time on the server: a prompt to the open project waits for the one
    another project runs."""
    scripted_model.set_script(Script.of({"text": "Busy.", "hold": "busy"}, {"text": "My turn."}))
    server = servers.start(bundled_claude_bin.path, "--max-concurrent-runs", "1")
    other_dir = tmp_path / "zeta"
    other_dir.mkdir()
    await add_project(server, project_dir)
    other = await add_project(server, other_dir)
    async with await connect(server) as client, browsing(server) as pages:
        await client.prompt(other, "keep the slot busy")
        page = await pages.open()
        busy = page.locator(f".project[data-project='{other}'] .badge.running")
        await expect(busy).to_be_visible()
        await send(page, "wait for your turn")
        activity = page.locator(".activity")
        await expect(activity).to_have_text("Waiting in the queue: 1 run")
        await expect(activity).to_have_attribute("data-activity", "queued")
        scripted_model.release("busy")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(activity).to_have_text("Idle")


async def test_answers_say_who_answered(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    """This page (you), a remembered rule, another device (a page with its own storage):
    each page words each answer from where it stands."""
    touch_other = {"name": "Bash", "input": {"command": "touch other.txt"}}
    turns = (
        {"tool_use": TOUCH},
        {"text": "Created."},
        {"tool_use": TOUCH},
        {"text": "Again."},
        {"tool_use": touch_other},
        {"text": "Left alone."},
        {"tool_use": ASK},
        {"text": "Blue it is."},
    )
    async with scripted_page(server, project_dir, scripted_model, *turns) as (pages, mine):
        theirs = await pages.open()
        await send(mine, "create the file")
        await mine.locator(".approval").get_by_label("Remember for this project").check()
        await mine.locator(".approval button.allow").click()
        await expect(mine.locator(".run-summary")).to_contain_text("completed")
        completed = mine.locator(".run[data-state=completed]")
        await send(mine, "create it again")  # the rule answers
        await expect(completed).to_have_count(2)
        await send(mine, "create another")
        await theirs.locator(".approval input.reason").fill("not now")
        await theirs.locator(".approval button.deny").click()
        await expect(completed).to_have_count(3)
        await send(mine, "pick a color")
        await theirs.locator(".approval.question").get_by_role("button", name="Blue").click()
        await expect(completed).to_have_count(4)
        for page, asked in ((mine, True), (theirs, False)):  # mine allowed, theirs the rest
            expected = [
                ("✓ You allowed this" if asked else "✓ Allowed from another device")
                + ", and remembered for this project",
                "✓ Allowed by rule",
                ("✗ Denied from another device" if asked else "✗ You denied this") + ": not now",
                ("✓ Answered from another device" if asked else "✓ You answered") + ": Blue",
            ]
            answers = page.locator(".note.answered, .note.denied")
            await expect(answers).to_have_text(expected)


CONTRAST = """(selectors) => {
    // The WCAG contrast of each selector's first element: its text colour against the
    // first opaque background behind it.
    const rgb = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
    const background = (element) => {
        for (let e = element; e; e = e.parentElement) {
            const c = rgb(getComputedStyle(e).backgroundColor);
            if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
        }
        return [255, 255, 255];
    };
    const luminance = ([r, g, b]) => {
        const channel = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const result = {};
    for (const selector of selectors) {
        const element = document.querySelector(selector);
        if (element === null) { result[selector] = null; continue; }
        const [a, b] = [luminance(rgb(getComputedStyle(element).color)),
                        luminance(background(element))];
        result[selector] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    }
    result.page = luminance(background(document.querySelector(".scroller")));
    return result;
}"""

READABLE = {
    "pre.code .hljs-built_in": 3.0,  # code colours: at least as readable as large text
    "pre.code .hljs-comment": 3.0,
    ".assistant p": 4.5,  # the rest: WCAG AA for text
    ".markdown td": 4.5,
    ".prompt-text": 4.5,
    ".tool-result": 4.5,
    ".badge.approvals": 4.5,
    ".note.confirmation": 4.5,
    ".run[data-state=failed] .note.api-error": 4.5,
    ".run-summary": 4.5,
    ".activity": 4.5,
    ".approval header strong": 4.5,
}
"""Text that must read well in both themes: the least contrast with its background."""

BOXES = """(element) => [element, ...element.querySelectorAll("*")].filter((e) => {
    // Elements drawn as boxes: a background of their own, or a border.
    const style = getComputedStyle(e);
    const transparent = style.backgroundColor === "rgba(0, 0, 0, 0)";
    return !transparent || style.borderTopStyle !== "none";
}).length"""


async def conversation_to_show(page: Page, model: ScriptedModelServer) -> None:
    """A run with an API retry, thinking, a tool with long output and an answer with a
    table and code; a run that fails; a run waiting for approval."""
    model.set_script(
        Script.of(
            OVERLOADED,
            {"thinking": "Count first, then sum.", "text": "Let me count.", "tool_use": COUNT},
            {"text": TABLE_ANSWER},
        )
    )
    await send(page, "Count to 200 and sum the numbers")
    await expect(page.locator(".run-summary")).to_contain_text("completed")
    status, message = API_ERROR.removeprefix("API Error: ").split(" ", 1)
    model.set_script(
        Script.of({"error": {"status": int(status), "message": message}, "repeat": 10})
    )
    await send(page, "And the product?")
    await expect(page.locator(".run[data-state=failed]")).to_have_count(1)
    model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Created."}))
    await send(page, "Create the file")
    await expect(page.locator(".approval")).to_be_visible()


async def check_look(page: Page, scheme: Scheme, phone: bool) -> None:
    """What each page must look like, whatever its width and theme."""
    failed = page.locator(".run[data-state=failed]")
    await expect(failed.locator(".run-summary")).to_contain_text("failed")
    assert (await failed.text_content() or "").count(API_ERROR) == 1  # once, as the error
    await expect(failed.locator(".note.api-error")).to_have_text(API_ERROR)
    await expect(page.locator(".approval")).to_be_visible()
    # Tables have rules; a code block is one box.
    cell = await page.locator(".markdown td").first.evaluate(
        "td => [getComputedStyle(td).borderTopStyle, getComputedStyle(td).borderTopWidth]"
    )
    assert cell == ["solid", "1px"]
    assert await page.locator(".markdown pre.code").evaluate(BOXES) == 1
    # Long output scrolls inside its card, which stays short.
    output = page.locator(".tool[data-tool=Bash] .tool-result").first
    await expect(output).to_contain_text("200")
    height, scrolled, overflow = await output.evaluate(
        "e => [e.clientHeight, e.scrollHeight, getComputedStyle(e).overflowY]"
    )
    assert height <= 320 and scrolled > 2 * height and overflow == "auto"
    # The person's turn is a bubble on the right, unlike Claude's text on the left.
    prompt = await page.locator(".prompt-text").first.bounding_box()
    answer = await page.locator(".assistant").first.bounding_box()
    assert prompt is not None and answer is not None
    assert prompt["x"] > answer["x"] + 40
    assert abs((prompt["x"] + prompt["width"]) - (answer["x"] + answer["width"])) < 2
    colours = await page.evaluate(
        """() => [".prompt-text", ".assistant"].map(
            (s) => getComputedStyle(document.querySelector(s)).backgroundColor)"""
    )
    assert colours[0] != colours[1]
    # Every text reads well, in this theme.
    contrast = await page.evaluate(CONTRAST, list(READABLE))
    page_luminance = contrast.pop("page")
    assert (page_luminance < 0.05) if scheme == "dark" else (page_luminance > 0.8)
    poor = {s: c for s, c in contrast.items() if c is None or c < READABLE[s]}
    assert poor == {}, (scheme, poor)
    if phone:
        await check_phone_bars(page)


async def check_phone_bars(page: Page) -> None:
    """On a phone, the page is as wide as the screen, the top bar is one line on it and
    the projects are one row."""
    assert await page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    boxes = await page.locator(".topbar > *").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect()).map(r => [r.top, r.bottom, r.right])"
    )
    assert max(top for top, _, _ in boxes) < min(bottom for _, bottom, _ in boxes), boxes
    assert max(right for _, _, right in boxes) <= PHONE["width"], boxes
    rows = await page.locator(".project").evaluate_all(
        "nodes => nodes.map(n => n.getBoundingClientRect().top)"
    )
    assert len(rows) == 3 and max(rows) - min(rows) < 1, rows
    for bar in (".topbar", ".sidebar"):
        box = await page.locator(bar).bounding_box()
        assert box is not None and box["height"] < 50, (bar, box)


async def test_a_conversation_looks_right_in_light_and_dark_at_desktop_and_phone_width(
    server: RunningServer, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModelServer
) -> None:
    """Markdown with a table and code, a tool with long output, a failed run and a
    pending approval: the screenshots of the docs (in tmp_path/screenshots, and copied
    to docs/images with SWITCHBOARD_UPDATE_DOC_IMAGES=1)."""
    for name in ("website", "worker"):  # more projects for the phone's row
        (tmp_path / name).mkdir()
        await add_project(server, tmp_path / name)
    await add_project(server, project_dir)
    shots = [tmp_path / "screenshots"]
    if os.environ.get(UPDATE_DOC_IMAGES) == "1":
        shots.append(DOC_IMAGES)
    async with browsing(server) as pages:
        page = await pages.open()
        await page.locator(".project", has_text="project").click()
        await expect(page.locator(".project-header h1")).to_have_text("project")
        await conversation_to_show(page, scripted_model)
        tall = {**DESKTOP, "height": 1080}  # room for all of it
        views: list[tuple[str, dict[str, Any], Scheme]] = [
            ("web-ui", tall, "light"),
            ("web-ui-dark", tall, "dark"),
            ("web-ui-phone", PHONE, "light"),
            ("web-ui-phone-dark", PHONE, "dark"),
        ]
        for name, viewport, scheme in views:
            view = await pages.open(viewport, scheme)
            await expect(view.locator(".run[data-state=failed]")).to_have_count(1)
            await expect(view.locator(".activity")).to_have_text(
                "Waiting for your approval to use Bash: touch created.txt"
            )
            await check_look(view, scheme, phone=viewport == PHONE)
            if viewport == PHONE:  # the table, the code and the failed run
                await view.locator(".run[data-state=failed]").evaluate(
                    "run => run.scrollIntoView({ block: 'end' })"
                )
            else:  # from the tool's output (scrolled to its end) to the failed run
                output = view.locator(".tool[data-tool=Bash] .tool-result").first
                await output.evaluate("e => { e.scrollTop = e.scrollHeight; }")
                await view.locator(".tool[data-tool=Bash]").first.evaluate(
                    "card => card.scrollIntoView({ block: 'start' })"
                )
            await shoot(view, name, *shots)
        # The conversation's start (the prompt, the retry, thinking): not for the docs.
        await page.locator(".scroller").evaluate("s => { s.scrollTop = 0; }")
        await shoot(page, "web-ui-start", shots[0])
        await page.locator(".approval button.deny").click()
        await expect(page.locator(".run[data-state=completed]")).to_have_count(2)


def failed_first(runs: int) -> Batches:
    """A history whose first run failed with an API error, reported as CLI 2.1.197 does
    (an ``assistant`` message of the model ``<synthetic>`` with an ``error``), followed
    by ``runs - 1`` runs that completed."""

    def events(project: ProjectRecord) -> list[list[NewEvent]]:
        batch = []
        for n in range(runs):
            run = RunInfo(
                id=f"run{n}", project=project.id, state="queued", prompt=f"P{n}", created_at=n
            )
            if n == 0:
                message = {"model": "<synthetic>", "content": [{"type": "text", "text": API_ERROR}]}
                said = {"type": "assistant", "message": message, "error": "unknown"}
                end = {"state": "failed", "error": API_ERROR}
            else:
                said = {
                    "type": "assistant",
                    "message": {"content": [{"type": "text", "text": "OK."}]},
                }
                end = {"state": "completed"}
            done = run.model_copy(update=end)
            batch += [
                NewEvent("run", run.model_dump_json(), run.id),
                NewEvent("cli", json.dumps(said), run.id),
                NewEvent("run", done.model_dump_json(), run.id),
            ]
        return [batch]

    return events


async def test_a_failed_runs_error_shows_once_also_when_its_body_is_built_late(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, tmp_path: Path
) -> None:
    """An old run's body is built when scrolled to: until then its error is on its own
    line; then it is in the body, in place, and only there."""
    data_dir = tmp_path / "history-data"
    await write_project(data_dir, project_dir, failed_first(40))  # more than built at once
    server = servers.start(bundled_claude_bin.path, "--data-dir", str(data_dir))
    async with browsing(server) as pages:
        page = await pages.new_page()
        await page.add_init_script("window.requestIdleCallback = () => 0;")  # no idle time
        await page.goto(f"{server.url}/#token={server.token}")
        await expect(page.locator(".run-summary")).to_have_count(40)
        failed = page.locator(".run[data-state=failed]")
        await expect(failed).to_have_attribute("data-waiting", "")
        await expect(failed.locator(".run-error")).to_have_text(API_ERROR)
        await page.locator(".scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
        await expect(failed.locator(".note.api-error")).to_have_text(API_ERROR)
        await expect(failed.locator(".run-error")).to_be_hidden()
        assert (await failed.text_content() or "").count(API_ERROR) == 1
        await expect(failed.locator(".assistant")).to_have_count(0)
