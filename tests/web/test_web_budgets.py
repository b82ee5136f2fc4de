"""A project's budgets in the web UI (in Debian's Chromium, against a real server and
the real CLI): the header shows today's spend against the daily budget and the per-run
budget, marks a spent budget, and follows a change made elsewhere."""

from pathlib import Path

import pytest
from playwright.async_api import expect

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, prompt_and_follow
from tests.web.pages import browsing

pytestmark = pytest.mark.timeout(120)


def dollars(amount: float) -> str:
    """As the UI writes amounts (header.ts)."""
    return "$0" if amount == 0 else f"${amount:.{2 if amount >= 1 else 4}f}"


async def test_the_header_shows_today_s_spend_against_the_budgets(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Spent.", "usage": {"input_tokens": 200_000, "output_tokens": 1_000}})
    )
    server = servers.start(bundled_claude_bin.path, "--budget-run-usd", "2")
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        await client.set_budget(project["id"], daily_usd=0.5)
        spent = (await prompt_and_follow(client, project["id"], "spend")).final["cost_usd"]
    assert spent > 0.5
    async with browsing(server) as pages:
        page = await pages.open()
        budget = page.locator(".project-header .budget")
        await expect(budget).to_have_text(f"today {dollars(spent)} of $0.5000 · run ≤ $2.00")
        await expect(budget).to_have_attribute("data-spent", "true")
        async with await connect(server) as client:
            await client.set_budget(project["id"], daily_usd=10)
        await expect(budget).to_have_text(f"today {dollars(spent)} of $10.00 · run ≤ $2.00")
        await expect(budget).to_have_attribute("data-spent", "false")
