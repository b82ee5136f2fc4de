"""The web UI in Debian's Chromium against a real server, the real CLI and the scripted
model. Every test fails on any console error or uncaught exception in a page."""

import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from switchboard.protocol.messages import RunInfo
from switchboard.scripted_model import Script, ScriptedModelServer
from switchboard.store.offline import write_project
from switchboard.store.records import NewEvent, ProjectRecord
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import connect, follow, next_event, prompt_and_follow
from tests.support.proxy import holding_proxy
from tests.support.server import RunningServer
from tests.support.turns import ASK, TOUCH
from tests.web.pages import PHONE, add_project, browsing, scripted_page, send, shoot

pytestmark = pytest.mark.timeout(180)

LONG_ANSWER = (
    "The answer is **42**. Here is how to print it, streamed to you in pieces so that "
    "you can watch it arrive:\n\n```python\nprint(42)\n```\n\nThat is all there is to it."
)


WATCH_LIVE_TEXT = """() => {
    // Record every length the streaming (.live) answer's text takes: a poll from the
    // test could miss a stream that lasts a second on a busy machine; this cannot.
    window.__liveLengths = [];
    new MutationObserver(() => {
        for (const live of document.querySelectorAll(".assistant.live")) {
            const length = live.textContent.length;
            const seen = window.__liveLengths;
            if (length > 0 && seen[seen.length - 1] !== length) seen.push(length);
        }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""


@pytest.fixture
def server(servers: ServerFactory, bundled_claude_bin: ClaudeBinary) -> RunningServer:
    return servers.start(bundled_claude_bin.path)


async def test_a_prompt_and_its_streamed_answer(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    async with scripted_page(
        server, project_dir, scripted_model, {"text": LONG_ANSWER, "chunk_delay": 0.1}
    ) as (pages, page):
        await page.evaluate(WATCH_LIVE_TEXT)
        await send(page, "What is the answer?")
        await expect(page.locator(".prompt-text")).to_have_text("What is the answer?")
        answer = page.locator(".assistant:not(.live)")
        await expect(answer).to_contain_text("The answer is 42.")
        await expect(answer.locator("strong")).to_have_text("42")
        await expect(answer.locator("pre.code code.hljs .hljs-built_in")).to_have_text("print")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(page.locator(".assistant.live")).to_have_count(0)
        # Typed as it streamed: the live text grew through several lengths before the end.
        lengths = await page.evaluate("window.__liveLengths")
        assert len(lengths) >= 3 and lengths[0] <= 30 < lengths[-1], lengths
        await shoot(page, "conversation-desktop")
        phone = await pages.open(PHONE)
        await expect(phone.locator(".run-summary")).to_contain_text("completed")
        await shoot(phone, "conversation-phone")


async def test_a_bash_touch_approved_in_the_ui_creates_the_file(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    async with scripted_page(
        server, project_dir, scripted_model, {"tool_use": TOUCH}, {"text": "Finished."}
    ) as (pages, page):
        phone = await pages.open(PHONE)
        await send(page, "create the file")
        card = page.locator(".approval")
        await expect(card.locator("pre.command")).to_have_text("$ touch created.txt")
        await expect(card.locator(".countdown")).to_have_text(re.compile(r"^(9:[0-5]\d|10:00)$"))
        await expect(phone.locator(".approval")).to_be_visible()
        await expect(page.locator(".badge.approvals")).to_have_text("1 to approve")
        await shoot(page, "approval-desktop")
        await shoot(phone, "approval-phone")
        await card.locator("button.pause").click()  # the countdown stops for everyone
        await expect(phone.locator(".approval .countdown")).to_contain_text("paused")
        await expect(phone.locator(".approval button.pause")).to_have_text("Resume timer")
        await phone.locator(".approval button.pause").click()  # and goes on from another
        await expect(card.locator(".countdown")).not_to_contain_text("paused")
        await card.locator("button.allow").click()
        await expect(page.locator(".approval")).to_have_count(0)
        await expect(phone.locator(".approval")).to_have_count(0)
        await expect(page.locator(".note.answered")).to_have_text("✓ You allowed this")
        await expect(phone.locator(".note.answered")).to_have_text("✓ Allowed from another device")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(page.locator(".tool[data-tool=Bash] .tool-state")).to_have_text("done")
    assert (project_dir / "created.txt").exists()


async def test_a_denial_shows_and_the_run_goes_on(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    async with scripted_page(
        server, project_dir, scripted_model, {"tool_use": TOUCH}, {"text": "Understood, I left it."}
    ) as (_pages, page):
        await send(page, "create the file")
        card = page.locator(".approval")
        await card.locator("input.reason").fill("not in this directory")
        await card.locator("button.deny").click()
        await expect(page.locator(".note.denied")).to_have_text(
            "✗ You denied this: not in this directory"
        )
        await expect(page.locator(".assistant").last).to_have_text("Understood, I left it.")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
    assert not (project_dir / "created.txt").exists()


async def test_an_edit_shows_a_diff(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    notes = project_dir / "notes.txt"
    notes.write_text("alpha\nbeta\n")
    edit = {"file_path": str(notes), "old_string": "beta", "new_string": "gamma"}
    async with scripted_page(
        server,
        project_dir,
        scripted_model,
        {"tool_use": {"name": "Read", "input": {"file_path": str(notes)}}},
        {"tool_use": {"name": "Edit", "input": edit}},
        {"text": "Edited."},
    ) as (_pages, page):
        await send(page, "replace beta", mode="acceptEdits")
        diff = page.locator(".tool[data-tool=Edit] .diff")
        await expect(diff.locator(".diff-line.del .text")).to_have_text("beta")
        await expect(diff.locator(".diff-line.add .text")).to_have_text("gamma")
        await expect(page.locator(".tool[data-tool=Edit] .tool-state")).to_have_text("done")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await shoot(page, "edit-diff-desktop")
    assert notes.read_text() == "alpha\ngamma\n"


async def test_the_page_reconnects_after_a_restart_and_shows_every_message_once(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "First answer."}, {"text": "Meanwhile."}, {"text": "Third answer."})
    )
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(bundled_claude_bin.path, *data)
    project = await add_project(server, project_dir)
    async with holding_proxy(server.port) as (proxy, base_url), browsing(server, base_url) as pages:
        page = await pages.open()
        await send(page, "first")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        proxy.hold()  # the page's reconnect attempts wait at the proxy
        assert server.stop() == 0  # the page sees 1001 and retries
        await expect(page.locator(".connection")).not_to_have_text("connected")
        await expect(page.locator(".badge.offline")).to_have_count(1)
        again = servers.start(bundled_claude_bin.path, *data)
        async with await connect(again) as other:  # runs a prompt while the page is away
            await other.subscribe(project)
            await prompt_and_follow(other, project, "meanwhile")
        proxy.restore(again.port)
        await expect(page.locator(".connection")).to_have_text("connected")
        await follow_up(page, again, project)


async def follow_up(page: Page, server: RunningServer, project: str) -> None:
    """After the restart: what happened meanwhile is shown, once; a new prompt works;
    the page has applied every event up to the server's last one."""
    await expect(page.locator(".run-summary")).to_have_count(2)
    await send(page, "third")
    await expect(page.locator(".run-summary")).to_have_count(3)
    await expect(page.locator(".run-summary").last).to_contain_text("completed")
    assert await page.locator(".prompt-text").all_inner_texts() == ["first", "meanwhile", "third"]
    texts = await page.locator(".assistant").all_inner_texts()
    assert texts == ["First answer.", "Meanwhile.", "Third answer."]
    async with await connect(server) as client:
        [info] = await client.projects()
    assert info["id"] == project
    conversation = page.locator(".conversation")
    await expect(conversation).to_have_attribute("data-last-seq", str(info["head"]))


async def test_two_pages_on_one_project_show_the_same_conversation(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(Script.of({"text": LONG_ANSWER, "chunk_delay": 0.02}))
    await add_project(server, project_dir)
    async with browsing(server) as pages:
        first, second = await pages.open(), await pages.open()
        await send(second, "What is the answer?")
        for page in (first, second):
            await expect(page.locator(".run-summary")).to_contain_text("completed")
        shown = [await page.locator(".conversation").inner_text() for page in (first, second)]
        assert shown[0] == shown[1] and "The answer is 42." in shown[0]


async def test_a_queued_prompt_runs_after_the_current_one(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    turns = ({"text": "One.", "hold": "first"}, {"text": "Two."})
    async with scripted_page(server, project_dir, scripted_model, *turns) as (pages, page):
        await send(page, "first")
        await expect(page.locator(".queued-run.running")).to_contain_text("first")
        await send(page, "second")
        await send(page, "third")
        queued = page.locator(".queued-run.queued")
        await expect(queued).to_have_count(2)
        await expect(page.locator(".project .badge.queued")).to_have_text("2 queued")
        await expect(queued.first).to_contain_text("#1 queued")
        await expect(queued.first).to_contain_text("second")
        await queued.filter(has_text="third").locator("button.cancel").click()
        await expect(queued).to_have_count(1)
        await expect(page.locator(".project .badge.queued")).to_have_text("1 queued")
        await expect(page.locator(".run[data-state=cancelled] .prompt-text")).to_have_text("third")
        scripted_model.release("first")  # the first run was held busy until now
        await expect(page.locator(".run-summary")).to_have_count(3)
        await expect(page.locator(".run[data-state=completed]")).to_have_count(2)
        assert await page.locator(".prompt-text").all_inner_texts() == ["first", "second", "third"]
        assert await page.locator(".assistant").all_inner_texts() == ["One.", "Two."]
        await expect(page.locator(".queue li")).to_have_count(0)
        later = await pages.open()  # a page opened now loads the whole history
        await expect(later.locator(".run-summary")).to_have_count(3)
        shown = [await p.locator(".conversation").inner_text() for p in (page, later)]
        assert shown[0] == shown[1]


SPY_ON_ANNOUNCEMENTS = """() => {
    // The tab is hidden; record (and still make) every notification and tone.
    Object.defineProperty(document, "hidden", { get: () => true });
    window.__notified = [];
    window.__tones = 0;
    const Real = window.Notification;
    window.Notification = class extends Real {
        constructor(title, options) { super(title, options); window.__notified.push(title); }
    };
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () {
        window.__tones += 1;
        return create.call(this);
    };
}"""


async def test_a_confirmation_notifies_a_hidden_tab_with_a_sound(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    async with scripted_page(
        server, project_dir, scripted_model, {"tool_use": TOUCH}, {"text": "Finished."}
    ) as (_pages, page):
        await page.context.grant_permissions(["notifications"])
        await page.get_by_role("button", name="Notify me").click()
        await page.evaluate(SPY_ON_ANNOUNCEMENTS)
        await send(page, "create the file")
        await expect(page.locator(".approval")).to_be_visible()
        await expect(page).to_have_title("(1) Switchboard")
        assert await page.evaluate("window.__notified") == ["Switchboard: project needs you"]
        assert await page.evaluate("window.__tones") == 1
        await page.locator(".approval button.deny").click()
        await expect(page.locator(".run-summary")).to_contain_text("completed")


async def test_an_approval_that_arrived_while_the_page_was_offline_is_announced(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    """The network between page and server fails (the server keeps running); meanwhile
    Claude asks. When the page is back, the question is on screen and announced."""
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Finished."}))
    project = await add_project(server, project_dir)
    async with (
        holding_proxy(server.port) as (proxy, base_url),
        browsing(server, base_url) as pages,
        await connect(server) as other,
    ):
        page = await pages.open()
        await page.context.grant_permissions(["notifications"])
        await page.get_by_role("button", name="Notify me").click()
        await page.evaluate(SPY_ON_ANNOUNCEMENTS)
        proxy.cut()
        await expect(page.locator(".connection")).not_to_have_text("connected")
        await other.subscribe(project)
        run = await other.prompt(project, "create the file")
        await next_event(other, "confirmation_required")
        assert await page.evaluate("window.__tones") == 0  # nothing reached the page
        proxy.restore()
        await expect(page.locator(".connection")).to_have_text("connected")
        await expect(page.locator(".approval pre.command")).to_have_text("$ touch created.txt")
        await expect(page).to_have_title("(1) Switchboard")
        assert await page.evaluate("window.__notified") == ["Switchboard: project needs you"]
        assert await page.evaluate("window.__tones") == 1
        await page.locator(".approval button.allow").click()
        assert (await follow(other, run["id"])).final["state"] == "completed"
    assert (project_dir / "created.txt").exists()


@pytest.mark.parametrize("typed", [False, True], ids=["option", "free-text"])
async def test_a_question_is_answered_with_an_option_or_free_text(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer, typed: bool
) -> None:
    answer = "Green, please" if typed else "Blue"
    async with scripted_page(
        server, project_dir, scripted_model, {"tool_use": ASK}, {"text": "Noted."}
    ) as (_pages, page):
        await send(page, "pick a color")
        card = page.locator(".approval.question")
        await expect(card.locator("legend")).to_have_text("Which color?")
        if typed:
            await card.get_by_label("Which color?").fill(answer)
            await card.get_by_role("button", name="Answer").click()
        else:
            await card.get_by_role("button", name=answer).click()
        await expect(page.locator(".note.answered")).to_contain_text(answer)
        await expect(page.locator(".run-summary")).to_contain_text("completed")
    sent = scripted_model.conversation_requests[-1].text()
    assert f'\\"Which color?\\"=\\"{answer}\\"' in sent


async def test_opening_a_busy_project_shows_its_whole_history(
    server: RunningServer, project_dir: Path, tmp_path: Path, scripted_model: ScriptedModelServer
) -> None:
    scripted_model.set_script(
        Script.of(
            {"text": "Earlier answer."},
            {"text": LONG_ANSWER, "chunk_delay": 0.15, "hold": "stream"},
        )
    )
    other_dir = tmp_path / "zeta"  # sorted after "project": not the one open at first
    other_dir.mkdir()
    await add_project(server, project_dir)
    busy = await add_project(server, other_dir)
    async with await connect(server) as client, browsing(server) as pages:
        await client.subscribe(busy)
        await prompt_and_follow(client, busy, "earlier")
        page = await pages.open()
        await expect(page.locator(".project.selected .name")).to_have_text("project")
        await client.prompt(busy, "stream now")  # streaming while the page switches
        await expect(
            page.locator(f".project[data-project='{busy}'] .badge.running")
        ).to_be_visible()
        scripted_model.release("stream")
        await page.locator(f".project[data-project='{busy}']").click()
        await expect(page.locator(".run-summary")).to_have_count(2)
        await expect(page.locator(".run-summary").last).to_contain_text("completed")
        assert await page.locator(".prompt-text").all_inner_texts() == ["earlier", "stream now"]
        texts = await page.locator(".assistant").all_inner_texts()
        assert texts[0] == "Earlier answer." and texts[1].startswith("The answer is 42.")
        assert len(texts) == 2


async def test_the_login_screen_and_adding_and_removing_a_project(
    server: RunningServer, project_dir: Path
) -> None:
    async with browsing(server) as pages:
        page = await pages.new_page()
        await page.goto(f"{server.url}/")
        await page.fill("input[aria-label='Token']", "not-the-token")
        await page.click(".login button[type=submit]")
        await expect(page.locator(".login .problem")).to_have_text("That token was refused.")
        await shoot(page, "login-desktop")
        await page.fill("input[aria-label='Token']", server.token)
        await page.click(".login button[type=submit]")
        await expect(page.locator(".connection")).to_have_text("connected")
        await page.fill("input[aria-label='Project path']", str(project_dir))
        await page.click(".add-project button[type=submit]")
        item = page.locator(".project", has_text="project")
        await expect(item.locator(".badge.idle")).to_be_visible()
        await expect(page.locator(".project-header h1")).to_have_text("project")
        await page.reload()  # the token was remembered
        await expect(page.locator(".connection")).to_have_text("connected")
        await item.locator("button.remove").click()
        await expect(item.locator("button.remove")).to_have_text("Remove?")
        await item.locator("button.remove").click()
        await expect(page.locator(".project")).to_have_count(0)
        await expect(page.locator(".project-header h1")).to_have_text("No project open")


async def test_remember_in_the_ui_answers_the_next_identical_request(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    turns = ({"tool_use": TOUCH}, {"text": "Done."}, {"tool_use": TOUCH}, {"text": "Again."})
    async with scripted_page(server, project_dir, scripted_model, *turns) as (_pages, page):
        await send(page, "create the file")
        card = page.locator(".approval")
        await card.get_by_label("Remember for this project").check()
        await card.locator("button.allow").click()
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await send(page, "create it again")
        await expect(page.locator(".run-summary")).to_have_count(2)
        await expect(page.locator(".run-summary").last).to_contain_text("completed")
        await expect(page.locator(".note.answered").last).to_have_text("✓ Allowed by rule")
        await expect(page.locator(".approval")).to_have_count(0)


async def test_stop_cancels_the_running_run(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    slow = {"text": "Too late.", "delay": 60}
    async with scripted_page(server, project_dir, scripted_model, slow) as (_pages, page):
        await send(page, "take your time")
        running = page.locator(".queued-run.running")
        await expect(running.locator("button.cancel")).to_have_text("Stop")
        await running.locator("button.cancel").click()
        await expect(page.locator(".run-summary")).to_contain_text("cancelled")
        await expect(page.locator(".queue li")).to_have_count(0)


async def test_a_skills_question_is_answered_in_the_ui(
    server: RunningServer, project_dir: Path
) -> None:
    project = await add_project(server, project_dir)
    async with await connect(server) as producer, browsing(server) as pages:
        page = await pages.open()
        asked = await producer.request(
            "confirmation.request",
            project=project,
            skill_id="deploy-1",
            step_index=2,
            prompt="Ship build 1.4.2?",
            options=["ship", "wait"],
            claude_suggestion="ship",
        )
        card = page.locator(".approval.skill")
        await expect(card).to_contain_text("Ship build 1.4.2?")
        await expect(card.locator(".hint")).to_have_text("Claude suggests: ship")
        await expect(card.get_by_role("button", name="Let Claude decide")).to_be_visible()
        await card.get_by_label("Remember").check()
        await card.get_by_role("button", name="wait").click()
        result = await producer.confirmation_result(asked["confirmation"]["id"])
        assert (result["response"], result["remember"], result["expired"]) == ("wait", True, False)
        await expect(page.locator(".approval")).to_have_count(0)


async def write_history(data_dir: Path, project_dir: Path, runs: int) -> None:
    """A project of ``runs`` finished runs, written straight into the data dir (a
    thousand real runs would take minutes): a prompt "Prompt N" answered "Answer N."."""

    def events(project: ProjectRecord) -> list[list[NewEvent]]:
        batch = []
        for n in range(runs):
            run = RunInfo(
                id=f"run{n}", project=project.id, state="queued", prompt=f"Prompt {n}", created_at=n
            )
            answer = {
                "type": "assistant",
                "message": {"content": [{"type": "text", "text": f"Answer {n}."}]},
            }
            done = run.model_copy(update={"state": "completed", "duration_ms": 1000})
            batch += [
                NewEvent("run", run.model_dump_json(), run.id),
                NewEvent("cli", json.dumps(answer), run.id),
                NewEvent("run", done.model_dump_json(), run.id),
            ]
        return [batch]

    await write_project(data_dir, project_dir, events)


PAIRS = """() => [...document.querySelectorAll(".conversation .run")].map(run => [
    run.querySelector(".prompt-text").textContent,
    run.querySelector(".assistant")?.textContent.trim() ?? null,
])"""


async def test_a_long_history_shows_its_newest_runs_first_and_builds_the_rest(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path, tmp_path: Path
) -> None:
    runs = 45  # more than the 10 built at once, and than a screen and its margin hold
    data_dir = tmp_path / "history-data"
    data_dir.mkdir()
    await write_history(data_dir, project_dir, runs)
    server = servers.start(bundled_claude_bin.path, "--data-dir", str(data_dir))
    expected = [[f"Prompt {n}", f"Answer {n}."] for n in range(runs)]
    async with browsing(server) as pages:
        # Without idle time, only scrolling near an older run builds its body.
        busy = await pages.new_page()
        await busy.add_init_script("window.requestIdleCallback = () => 0;")
        await busy.goto(f"{server.url}/#token={server.token}")
        await expect(busy.locator(".run-summary")).to_have_count(runs)
        await expect(busy.locator(".assistant").last).to_have_text("Answer 44.")
        shown = await busy.evaluate(PAIRS)
        assert [pair[0] for pair in shown] == [pair[0] for pair in expected]
        built = [pair for pair in shown if pair[1] is not None]
        assert 10 <= len(built) < runs and built == expected[-len(built) :]
        await busy.locator(".scroller").evaluate("scroller => { scroller.scrollTop = 0; }")
        await expect(busy.locator(".assistant").first).to_have_text("Answer 0.")
        # With idle time, the rest is built in the background, each body in its run;
        # where the browser has no requestIdleCallback (Safari), in timer slices.
        idle = await pages.open()
        no_idle_api = await pages.new_page()
        await no_idle_api.add_init_script("window.requestIdleCallback = undefined;")
        await no_idle_api.goto(f"{server.url}/#token={server.token}")
        for page in (idle, no_idle_api):
            await expect(page.locator(".assistant")).to_have_count(runs)
            await expect(page.locator(".run[data-waiting]")).to_have_count(0)
            assert await page.evaluate(PAIRS) == expected


PLAN_TEXT = "## The plan\n\n1. Read `notes.md`\n2. Fix **the typo**\n"


def plan_file(model: ScriptedModelServer) -> str:
    """The plan file the CLI (in plan mode) told the model to write, from its request."""
    found = re.search(r"create your plan at (\S+\.md)", model.conversation_requests[-1].text())
    assert found, "the CLI named no plan file"
    return found.group(1)


async def test_a_plan_is_shown_and_approved_then_a_new_session_is_started(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    """CLI 2.1.330 has Claude write its plan to a plan file, then asks ExitPlanMode with
    an empty input: the card shows the file's plan."""
    async with scripted_page(
        server, project_dir, scripted_model, {"text": "I will plan first."}
    ) as (pages, page):
        await send(page, "make a plan first", mode="plan")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        path = plan_file(scripted_model)
        write = {"name": "Write", "input": {"file_path": path, "content": PLAN_TEXT}}
        scripted_model.set_script(
            Script.of(
                {"tool_use": write},
                {"tool_use": {"name": "ExitPlanMode", "input": {}}},
                {"text": "Plan approved; starting."},
                {"text": "Fresh start."},
            )
        )
        await send(page, "write it down", mode="plan")
        card = page.locator(".approval")
        await expect(card.locator("header strong")).to_have_text("Claude has a plan")
        await expect(card.locator("h2")).to_have_text("The plan")  # Markdown
        await expect(card.locator("li strong")).to_have_text("the typo")
        await expect(page.locator(".note.confirmation")).to_have_text(
            "? Claude asks to approve its plan"
        )
        await shoot(page, "plan-desktop")
        await card.locator("button.allow").click()
        await expect(page.locator(".assistant").last).to_have_text("Plan approved; starting.")
        await expect(page.locator(".run-summary")).to_have_count(2)
        await expect(page.locator(".run-summary").last).to_contain_text("completed")
        await page.get_by_role("button", name="Sessions").click()
        await page.get_by_role("dialog").get_by_role("button", name="New session").click()
        await expect(page.locator(".note.divider")).to_have_text("A new session starts here")
        await expect(page.get_by_role("dialog")).to_be_hidden()  # the page is inert until then
        await send(page, "hello again")
        await expect(page.locator(".run-summary")).to_have_count(3)
        await expect(page.locator(".assistant").last).to_have_text("Fresh start.")
        # The divider sits before the third run, for this page and for one opened later.
        later = await pages.open()
        for shown in (page, later):
            order = await shown.locator(".conversation > *").evaluate_all(
                "nodes => nodes.map(n => n.classList.contains('divider') ? 'new' : 'run')"
            )
            assert order == ["run", "run", "new", "run"]
    # The third run's CLI did not resume the earlier session.
    assert "make a plan first" not in scripted_model.conversation_requests[-1].text()
