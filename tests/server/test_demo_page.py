"""The /ws/claude demo page, in real Chromium, against the real endpoint and the real CLI."""

from pathlib import Path

from playwright.async_api import ConsoleMessage, expect

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.browser import chromium

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "images"


async def test_demo_page_runs_a_prompt_end_to_end(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    scripted_model.set_script(
        Script.of(
            {
                "text": "Let me check.",
                "tool_use": {
                    "name": "Bash",
                    "input": {"command": "echo demo-bash-output", "description": "Echo"},
                },
            },
            {"text": "Hello from the demo page!"},
        )
    )
    server = servers.start(bundled_claude_bin.path)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            problems.append(f"{message.type}: {message.text}")

    async with chromium() as browser:
        page = await browser.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
        await page.goto(f"{server.url}/ws-demo.html?token={server.token}")
        await page.fill("#prompt", "Please say hello")
        await page.fill("#meta", "DEMO-1")
        await page.click("#send")

        await expect(page.locator("#status")).to_have_text("closed 1000 · claude exited 0")
        log = page.locator("#log")
        await expect(log.locator(".assistant").last).to_have_text("Hello from the demo page!")
        await expect(log.locator(".tool", has_text="⚙ Bash")).to_have_count(1)
        await expect(log.locator(".tool", has_text="↳ demo-bash-output")).to_have_count(1)
        await expect(log.locator(".result")).to_contain_text("Hello from the demo page!")
        await page.screenshot(path=str(SCREENSHOT_DIR / "ws-demo.png"), full_page=True)

    assert problems == []
    assert "Please say hello" in scripted_model.conversation_requests[0].text()


async def test_demo_page_shows_a_refusal(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary
) -> None:
    server = servers.start(bundled_claude_bin.path)
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{server.url}/ws-demo.html?token={server.token}")
        await page.fill("#prompt", "hello")
        await page.fill("#meta", "lower-case-is-invalid")
        await page.evaluate("document.getElementById('meta').removeAttribute('pattern')")
        await page.click("#send")
        await expect(page.locator("#status")).to_contain_text("closed 1008 · meta must match")
    assert servers.spawned() == []
