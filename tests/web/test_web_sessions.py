"""Sessions, follow-ups and costs in the web UI, in Debian's Chromium against a real
server, the real CLI and the scripted model: the session picker (a terminal's session
taken over, its history shown as a conversation; a switch refused while a run is under
way; a new session), runs Claude begins by itself when background work finishes, the
background work the activity line reports meanwhile, and what a project has cost.
Every test fails on any console error in a page."""

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
from tests.e2e.test_stored_sessions_real import terminal_session
from tests.support.hub import connect
from tests.support.server import RunningServer
from tests.web.pages import PHONE, add_project, browsing, send, shoot

pytestmark = pytest.mark.timeout(180)

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
UPDATE_DOC_IMAGES = "SWITCHBOARD_UPDATE_DOC_IMAGES"
"""Set to 1 to copy the session picker's screenshots into docs/images."""

COUNT = {"name": "Bash", "input": {"command": "seq 1 3", "description": "Count to 3"}}
"""A read-only command: the CLI runs it without asking, also under ``claude -p``."""


async def logged(server: RunningServer, project: str) -> list[dict[str, Any]]:
    """The project's whole log, as a client replays it."""
    events: list[dict[str, Any]] = []
    async with await connect(server) as client:
        await client.subscribe(project, since=0)
        async for message in client.messages():
            if message["type"] == "event":
                events.append(message)
            elif message["type"] == "caught_up":
                return events
    raise AssertionError("the connection ended first")


async def open_sessions(page: Page) -> Any:
    """Open the open project's session picker; the dialog, once its list is loaded."""
    await page.get_by_role("button", name="Sessions").click()
    picker = page.get_by_role("dialog")
    await expect(picker).to_be_visible()
    await expect(picker.locator(".stored-sessions .empty", has_text="Loading")).to_have_count(0)
    return picker


async def test_a_terminal_session_is_picked_and_its_history_reads_as_a_conversation(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
) -> None:
    scripted_model.set_script(
        Script.of(
            {"text": "Let me count.", "tool_use": COUNT},
            {"text": "Counted **three**."},
            {"text": "Carried on here."},
        )
    )
    prompt = "Count to three in a terminal"
    session_id = terminal_session(claude_bin, project_dir, claude_env, prompt)
    server = servers.start(claude_bin.path)
    project = await add_project(server, project_dir)
    async with browsing(server) as pages:
        page = await pages.open()
        picker = await open_sessions(page)
        listed = picker.locator(".stored-session")
        await expect(listed).to_have_count(1)
        await expect(listed).to_have_attribute("data-session", session_id)
        await expect(listed.locator(".first-prompt")).to_have_text(prompt)
        await expect(listed.locator(".when")).to_have_text(
            re.compile(r"^last active (just now|\d+ (seconds?|minutes?) ago) · started \w+")
        )
        await expect(listed.locator(".badge.current")).to_have_count(0)
        await listed.get_by_role("button").click()
        await expect(picker).to_be_hidden()
        history = page.locator(".imported")
        await expect(history.locator(".assistant")).to_have_text(
            ["Let me count.", "Counted three."]
        )
        imported = [e for e in await logged(server, project) if e["kind"] == "imported"]
        await expect(history.locator(".import-marker")).to_have_text(
            f"Earlier history from session {session_id} ({len(imported)} lines imported)"
        )
        # The person's prompt is a bubble; Claude's tool card has its result.
        await expect(history.locator(".turn .prompt-text")).to_have_text([prompt])
        card = history.locator(".tool[data-tool=Bash]")
        await expect(card.locator(".tool-state")).to_have_text("done")
        await expect(card.locator(".tool-result")).to_have_text(re.compile(r"^1\s+2\s+3$"))
        await send(page, "Go on")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(page.locator(".run .assistant")).to_have_text("Carried on here.")
        # The history comes before the run that resumed it, also for a page opened later.
        later = await pages.open()
        await expect(later.locator(".imported .assistant")).to_have_count(2)
        await expect(later.locator(".run .assistant")).to_have_text("Carried on here.")
        for shown in (page, later):
            order = await shown.locator(".conversation > *").evaluate_all(
                "nodes => nodes.map(n => n.classList[0])"
            )
            assert order == ["imported", "run"]
        await shoot(page, f"imported-history-{claude_bin.name}")
        # The picker now marks it the current session, which cannot be chosen again.
        picker = await open_sessions(page)
        current = picker.locator(".stored-session.current")
        await expect(current).to_have_attribute("data-session", session_id)
        await expect(current.locator(".badge.current")).to_have_text("current")
        await expect(current.get_by_role("button")).to_be_disabled()
    # The run resumed the terminal's conversation.
    assert prompt in scripted_model.conversation_requests[-1].text()


async def test_the_picker_refuses_a_switch_during_a_run_and_starts_new_sessions(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    claude_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Also the screenshots of the picker, at desktop and phone width (in
    tmp_path/screenshots, and in docs/images with SWITCHBOARD_UPDATE_DOC_IMAGES=1)."""
    scripted_model.set_script(
        Script.of(
            {"text": "Here is what is left."},
            {"text": "It depends on the time zone."},
            {"text": "Tidied.", "hold": "busy"},
            {"text": "Fresh start."},
        )
    )
    binary = bundled_claude_bin
    older = "Plan the 2.0 release: what is left, in order"
    newer = "Why does test_upload fail on CI but not on my machine?"
    older_id = terminal_session(binary, project_dir, claude_env, older)
    terminal_session(binary, project_dir, claude_env, newer)
    server = servers.start(binary.path)
    await add_project(server, project_dir)
    shots = [tmp_path / "screenshots"]
    if os.environ.get(UPDATE_DOC_IMAGES) == "1":
        shots.append(DOC_IMAGES)
    async with browsing(server) as pages:
        page = await pages.open()
        await send(page, "Tidy up the README")
        await expect(page.locator(".run[data-state=running]")).to_have_count(1)
        picker = await open_sessions(page)
        await picker.locator(f".stored-session[data-session='{older_id}'] button").click()
        problem = picker.locator(".picker-problem")
        await expect(problem).to_have_text(
            "A run is under way in this project: wait for it to finish, or stop it, then switch."
        )
        await expect(picker).to_be_visible()  # the choice is still there to make
        await page.keyboard.press("Escape")
        await expect(picker).to_be_hidden()
        scripted_model.release("busy")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        # Newest first: the run's session (now the project's), then the terminal's.
        picker = await open_sessions(page)
        await expect(problem).to_be_hidden()
        await expect(picker.locator(".first-prompt")).to_have_text(
            ["Tidy up the README", newer, older]
        )
        await expect(picker.locator(".stored-session.current .first-prompt")).to_have_text(
            "Tidy up the README"
        )
        await shoot(page, "session-picker", *shots)
        phone = await pages.open(PHONE)
        phone_picker = await open_sessions(phone)
        await expect(phone_picker.locator(".stored-session")).to_have_count(3)
        box = await phone_picker.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert await phone.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
        await shoot(phone, "session-picker-phone", *shots)
        # A new session: the next prompt does not resume the run's.
        await picker.get_by_role("button", name="New session").click()
        await expect(picker).to_be_hidden()
        await expect(page.locator(".note.divider")).to_have_text("A new session starts here")
        picker = await open_sessions(page)
        await expect(picker.locator(".picker-actions .hint")).to_have_text(
            "The next prompt starts a new session."
        )
        await expect(picker.locator(".stored-session.current")).to_have_count(0)
        await page.keyboard.press("Escape")
        await send(page, "Hello again")
        await expect(page.locator(".run .assistant").last).to_have_text("Fresh start.")
    assert "Tidy up the README" not in scripted_model.conversation_requests[-1].text()


def background_turns(gate: Path) -> Script:
    """A turn that starts a background command (it ends once ``gate`` exists), the
    answer that ends the turn, and the follow-up the CLI asks for when the command has
    finished (held until the gate ``follow-up`` is released)."""
    command = f"while [ ! -e {gate} ]; do sleep 0.05; done; echo background-done"
    run_in_background = {
        "name": "Bash",
        "input": {"command": command, "run_in_background": True, "description": "Wait for it"},
    }
    return Script.of(
        {"text": "I will start it in the background.", "tool_use": run_in_background},
        {"text": "It runs in the background."},
        {"text": "The background command has finished.", "hold": "follow-up"},
    )


async def test_a_follow_up_run_says_why_claude_carried_on_and_what_each_run_cost(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    scripted_model.set_script(background_turns(gate))
    server = servers.start(claude_bin.path)
    project = await add_project(server, project_dir)
    async with browsing(server) as pages:
        page = await pages.open()
        activity = page.locator(".activity")
        await send(page, "Run it in the background")  # a read-only command: not asked
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        # The turn is over, its command is not: the activity line says what comes.
        await expect(activity).to_have_text(
            "1 background task running; Claude will carry on when it finishes"
        )
        await expect(activity).to_have_attribute("data-activity", "background")
        await shoot(page, f"background-work-{claude_bin.name}")
        gate.touch()
        follow_up = page.locator(".run[data-origin=claude]")
        await expect(follow_up).to_have_count(1)
        await expect(page.locator(".queued-run.running .text")).to_have_text(
            "Claude carries on by itself"
        )
        scripted_model.release("follow-up")
        await expect(follow_up.locator(".assistant")).to_have_text(
            "The background command has finished."
        )
        await expect(follow_up.locator(".run-summary")).to_contain_text("completed")
        await expect(activity).to_have_text("Idle")
        await shoot(page, f"follow-up-{claude_bin.name}")
        events = await logged(server, project)
        [woke] = [
            e["data"]["summary"]
            for e in events
            if e["kind"] == "cli" and e["data"].get("subtype") == "task_notification"
        ]
        head = f"Claude carried on by itself: {woke}"
        runs = {e["data"]["id"]: e["data"] for e in events if e["kind"] == "run"}
        async with await connect(server) as client:
            [info] = [p for p in await client.projects() if p["id"] == project]
        total = info["total_cost_usd"]
        later = await pages.open()
        for shown in (page, later):
            await expect(shown.locator(".run[data-origin=claude] .prompt-text")).to_have_text(head)
            # Each run's summary has its own cost; the header their sum.
            for run in runs.values():
                summary = shown.locator(f".run[data-run='{run['id']}'] .run-summary")
                await expect(summary).to_contain_text(f"${run['cost_usd']:.4f}")
            await expect(shown.locator(".project-header .spend")).to_have_text(
                f"${total:.4f} spent"
            )
    assert [run["origin"] for run in runs.values()] == ["client", "claude"]
    assert woke and all(run["cost_usd"] > 0 for run in runs.values())
    assert total == pytest.approx(sum(run["cost_usd"] for run in runs.values()), rel=1e-6)


NOTIFICATION = 'Background command "Wait for it" completed (exit code 0)'


def old_follow_up(runs: int) -> Batches:
    """A history whose first run Claude began by itself when a background command
    finished, followed by ``runs - 1`` runs of prompts."""

    def events(project: ProjectRecord) -> list[list[NewEvent]]:
        batch = []
        for n in range(runs):
            run = RunInfo(
                id=f"run{n}",
                project=project.id,
                state="running",
                prompt="" if n == 0 else f"P{n}",
                created_at=n,
                origin="claude" if n == 0 else "client",
            )
            lines = [
                {"type": "assistant", "message": {"content": [{"type": "text", "text": "OK."}]}}
            ]
            if n == 0:
                woke = {"type": "system", "subtype": "task_notification", "task_id": "b1"}
                lines.insert(0, {**woke, "status": "completed", "summary": NOTIFICATION})
            done = run.model_copy(update={"state": "completed", "cost_usd": 0.01})
            batch += [
                NewEvent("run", run.model_dump_json(), run.id),
                *(NewEvent("cli", json.dumps(line), run.id) for line in lines),
                NewEvent("run", done.model_dump_json(), run.id),
            ]
        return [batch]

    return events


async def test_an_old_follow_up_says_why_before_its_body_is_built(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, tmp_path: Path
) -> None:
    """Older runs' bodies are built when scrolled to; the head of a run Claude began by
    itself says what woke it at once, from a line of that body."""
    data_dir = tmp_path / "history-data"
    await write_project(data_dir, project_dir, old_follow_up(40))  # more than built at once
    server = servers.start(bundled_claude_bin.path, "--data-dir", str(data_dir))
    async with browsing(server) as pages:
        page = await pages.new_page()
        await page.add_init_script("window.requestIdleCallback = () => 0;")  # no idle time
        await page.goto(f"{server.url}/#token={server.token}")
        await expect(page.locator(".run-summary")).to_have_count(40)
        follow_up = page.locator(".run[data-origin=claude]")
        await expect(follow_up).to_have_attribute("data-waiting", "")
        await expect(follow_up.locator(".prompt-text")).to_have_text(
            f"Claude carried on by itself: {NOTIFICATION}"
        )
        await page.locator(".scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
        await expect(follow_up.locator(".assistant")).to_have_text("OK.")
        await expect(follow_up.locator(".prompt-text")).to_have_text(
            f"Claude carried on by itself: {NOTIFICATION}"
        )


def imported_session(project: ProjectRecord) -> list[list[NewEvent]]:
    """A session taken over whose oldest lines were left out: prompts in both forms the
    CLI stores (a string, text blocks), a command echo of the CLI's that is no prompt, a
    tool call and its result, and the CLI's report of an API error."""
    use = {"session_id": "0e6b1c1d", "reason": "session.use", "imported": 7, "omitted": 3}
    call = {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "README.md"}
    said = [
        {"type": "user", "message": {"role": "user", "content": "What is here?"}},
        {"type": "assistant", "message": {"content": [call]}},
        {"type": "user", "message": {"role": "user", "content": [result]}},
        {"type": "assistant", "message": {"content": [{"type": "text", "text": "A README."}]}},
        {"type": "user", "message": {"content": "<command-name>/model</command-name>"}},
        {"type": "user", "message": {"content": [{"type": "text", "text": "Read it"}]}},
        {
            "type": "assistant",
            "message": {
                "model": "<synthetic>",
                "content": [{"type": "text", "text": "API Error: 500"}],
            },
            "error": "unknown",
        },
    ]
    return [
        [
            NewEvent("session", json.dumps(use)),
            *(NewEvent("imported", json.dumps(line)) for line in said),
        ]
    ]


async def test_imported_history_says_what_was_left_out(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "history-data"
    await write_project(data_dir, project_dir, imported_session)
    server = servers.start(bundled_claude_bin.path, "--data-dir", str(data_dir))
    async with browsing(server) as pages:
        page = await pages.open()
        history = page.locator(".imported")
        await expect(history.locator(".import-marker")).to_have_text(
            "Earlier history from session 0e6b1c1d (7 lines imported, 3 older left out)"
        )
        turns = history.locator(".turn")
        await expect(turns.locator(".prompt-text")).to_have_text(["What is here?", "Read it"])
        await expect(turns.nth(0).locator(".tool[data-tool=Bash] .tool-result")).to_have_text(
            "README.md"
        )
        await expect(turns.nth(0).locator(".assistant")).to_have_text("A README.")
        await expect(turns.nth(1).locator(".note.api-error")).to_have_text("API Error: 500")
        assert "command-name" not in (await history.inner_text())
