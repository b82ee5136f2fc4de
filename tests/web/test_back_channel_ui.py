"""The back-channel in the web UI, in Debian's Chromium against a real server, the real
CLI (its bundled build) and the scripted model: Claude's task list in the panel beside
the conversation, its request for approval of changes as a card with their diffs, the
changes it shows, its notifications, its progress, and the diagnostics a client
publishes. Every test fails on any console error in a page."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from switchboard.scripted_model import ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import connect
from tests.support.server import RunningServer
from tests.web.pages import PHONE, scripted_page, send, shoot

pytestmark = pytest.mark.timeout(180)

TOOL = "mcp__switchboard__"


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    """A turn in which Claude calls one of Switchboard's own tools."""
    return {"tool_use": {"name": TOOL + name, "input": arguments}}


@pytest.fixture
def server(servers: ServerFactory, bundled_claude_bin: ClaudeBinary) -> RunningServer:
    return servers.start(bundled_claude_bin.path)


def task(page: Page, task_id: str) -> Any:
    return page.locator(f"section.tasks li.task[data-task='{task_id}']")


async def test_the_task_panel_follows_claudes_updates_live(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    update = {"task_id": "t1", "title": "Write the parser"}
    async with scripted_page(
        server,
        project_dir,
        scripted_model,
        tool("update_task_status", **update, status="in_progress"),
        # Held: the task stays in progress until the test has seen it so.
        {**tool("update_task_status", **update, status="completed"), "hold": "finish"},
        {"text": "The parser is written."},
    ) as (pages, page):
        await expect(page.locator("section.tasks")).to_be_hidden()  # no task yet
        await send(page, "write the parser")
        in_progress = task(page, "t1")
        await expect(in_progress).to_have_attribute("data-status", "in_progress")
        await expect(in_progress.locator(".title")).to_have_text("Write the parser")
        await expect(in_progress.locator(".badge.status")).to_have_text("in progress")
        await expect(page.locator("section.tasks h2 .count")).to_have_text("0 of 1 done")
        scripted_model.release("finish")
        await expect(task(page, "t1")).to_have_attribute("data-status", "completed")
        await expect(task(page, "t1").locator(".badge.status")).to_have_text("done")
        await expect(page.locator("section.tasks h2 .count")).to_have_text("1 of 1 done")
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(page.locator("section.tasks li.task")).to_have_count(1)
        await shoot(page, "tasks-desktop")
        # A page opened later has the list from the server's snapshot, once.
        later = await pages.open(PHONE, "dark")
        await expect(task(later, "t1")).to_have_attribute("data-status", "completed")
        await expect(later.locator("section.tasks li.task")).to_have_count(1)
        await shoot(later, "tasks-phone")


async def test_an_approval_with_a_diff_is_approved_from_the_page(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    changes = [{"path": "hello.txt", "new_content": "hello\n"}]
    async with scripted_page(
        server,
        project_dir,
        scripted_model,
        tool("request_approval", summary="Add a greeting", changes=changes),
        {"text": "Thanks, I will add it."},
    ) as (_pages, page):
        await send(page, "add a greeting")
        card = page.locator("article.approval")
        await expect(card.locator("header strong")).to_have_text(
            "Claude asks you to approve its changes"
        )
        await expect(card.locator(".asked")).to_contain_text("Add a greeting")
        diff = card.locator(".diff[data-path='hello.txt']")
        await expect(diff).to_contain_text("+hello")
        await expect(diff.locator(".diff-line.add .text")).to_have_text("hello")
        await expect(page.locator(".activity")).to_have_text(
            "Waiting for your approval of Claude's changes"
        )
        await expect(page.locator(".badge.approvals")).to_have_text("1 to approve")
        await shoot(page, "approval-diff-desktop")
        await card.locator("input.comment").fill("looks good")
        await card.locator("button.approve").click()
        await expect(page.locator("article.approval")).to_have_count(0)
        await expect(page.locator(".note.answered")).to_have_text(
            "✓ You approved the changes: looks good"
        )
        await expect(page.locator(".run-summary")).to_contain_text("completed")
    assert await asyncio.to_thread(scripted_model.wait_for_requests, 2, 30)
    result = tool_results(scripted_model.conversation_requests[-1].body)
    assert "approved" in result.lower(), result
    assert "looks good" in result, result
    assert not (project_dir / "hello.txt").exists()  # approving changes nothing by itself


async def test_diff_previews_notifications_progress_and_diagnostics(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    (project_dir / "app.py").write_text("print('hi')\n")
    async with scripted_page(
        server,
        project_dir,
        scripted_model,
        tool(
            "show_diff",
            path="app.py",
            new_content="print('hello')\n",
            title="A friendlier greeting",
        ),
        tool("report_progress", message="Polishing the greeting", percent=40),
        tool("notify_user", message="The greeting is ready", level="success"),
        {"text": "Done."},
    ) as (_pages, page):
        project = str(await page.locator(".project.selected").get_attribute("data-project"))
        async with await connect(server) as client:
            await publish(client, project, "app.py", [lint(0, 6, "Name 'hi' is not defined", 1)])
            side = page.locator("section.diagnostics")
            file = side.locator(".diagnostic-file[data-path='app.py']")
            await expect(file.locator(".diagnostic")).to_have_count(1)
            first = file.locator(".diagnostic").first
            await expect(first).to_have_attribute("data-severity", "error")
            await expect(first.locator(".where")).to_have_text("1:7")
            await expect(first.locator(".message")).to_have_text("Name 'hi' is not defined")
            await expect(first.locator(".source")).to_have_text("pyright E1")
            await send(page, "make the greeting friendlier")
            preview = page.locator(".run-body figure.diff-preview")
            await expect(preview.locator("figcaption")).to_contain_text("A friendlier greeting")
            await expect(preview.locator(".diff-line.del .text")).to_have_text("print('hi')")
            await expect(preview.locator(".diff-line.add .text")).to_have_text("print('hello')")
            await expect(page.locator("section.tasks .progress")).to_have_text(
                "Polishing the greeting 40%"
            )
            note = page.locator(".run-body .notification")
            await expect(note).to_have_attribute("data-level", "success")
            await expect(note.locator(".message")).to_have_text("The greeting is ready")
            await expect(page.locator(".run-summary")).to_contain_text("completed")
            await shoot(page, "back-channel-desktop")
            await publish(client, project, "app.py", [])  # fixed: the file has none now
            await expect(side).to_be_hidden()
        assert (project_dir / "app.py").read_text() == "print('hi')\n"  # shown, not made


async def test_the_activity_line_says_what_the_tool_does(
    server: RunningServer, project_dir: Path, scripted_model: ScriptedModelServer
) -> None:
    wait = {  # read-only to the CLI: it runs without asking
        "command": "while [ ! -f go ]; do sleep 0.1; done",
        "description": "Wait for the go file",
    }
    async with scripted_page(
        server,
        project_dir,
        scripted_model,
        {"tool_use": {"name": "Bash", "input": wait}},
        {"text": "Gone."},
    ) as (_pages, page):
        await send(page, "wait for it")
        # In the words of the CLI's hooks (without them: "Running Bash: while …").
        await expect(page.locator(".activity")).to_have_text("Running Wait for the go file")
        (project_dir / "go").touch()
        await expect(page.locator(".run-summary")).to_contain_text("completed")
        await expect(page.locator(".activity")).to_have_text("Idle")


async def publish(client: Any, project: str, path: str, diagnostics: list[dict[str, Any]]) -> None:
    await client.request("diagnostics.publish", project=project, path=path, diagnostics=diagnostics)


def lint(line: int, character: int, message: str, severity: int) -> dict[str, Any]:
    start = {"line": line, "character": character}
    end = {"line": line, "character": character + 2}
    return {
        "range": {"start": start, "end": end},
        "severity": severity,
        "message": message,
        "source": "pyright",
        "code": "E1",
    }


def tool_results(body: dict[str, Any]) -> str:
    """The text of every tool result in a request's messages."""
    texts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                inner = block.get("content")
                texts.append(inner if isinstance(inner, str) else json.dumps(inner))
    return "\n".join(texts)
