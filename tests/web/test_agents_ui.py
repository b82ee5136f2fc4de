"""The web UI's list of remote agents, in Chromium: an agent that links shows online,
one that stops shows offline (and so do its projects), and a revoked one disappears."""

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import FAKE_AGENT, ClaudeBinary, ServerFactory
from tests.support.agents import HEARTBEATS, agents, status_until
from tests.support.hub import connect
from tests.support.turns import TOUCH
from tests.web.pages import browsing, send

pytestmark = pytest.mark.timeout(120)

__all__ = ["agents"]


async def test_the_sidebar_shows_agents_coming_and_going(
    servers: ServerFactory, agents: Callable[..., Any], tmp_path: Path
) -> None:
    code = tmp_path / "laptop-code"
    (code / "app").mkdir(parents=True)
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    async with browsing(server) as pages:
        page = await pages.open()
        section = page.locator(".agent-list")
        await expect(section).to_be_hidden()  # no agents: nothing to show
        async with await connect(server) as admin:
            ack = await admin.request("token.create", name="laptop", scope="agent")
            await expect(section).to_be_visible()
            laptop = section.locator(".agent", has_text="laptop")
            await expect(laptop.locator(".badge")).to_have_text("offline")
            agent = await agents(server, ack["secret"], "--allowed-root", str(code))
            await expect(laptop.locator(".badge")).to_have_text("online", timeout=20_000)
            await expect(laptop).to_have_class("agent online")
            await admin.add_project(str(code / "app"), None, "laptop")
            project = page.locator(".project", has_text="app")
            await expect(project.locator(".badge.agent")).to_have_text("on laptop")
            agent.send_signal(signal.SIGTERM)
            await expect(laptop.locator(".badge")).to_have_text(
                "offline, seen just now", timeout=10_000
            )
            await expect(project.locator(".badge.agent")).to_have_text("laptop offline")
            await admin.request("token.revoke", token=ack["token"]["id"])
            await expect(section).to_be_hidden()


async def test_an_approval_given_in_the_ui_reaches_the_agents_cli(
    servers: ServerFactory,
    agents: Callable[..., Any],
    bundled_claude_bin: ClaudeBinary,
    claude_env: dict[str, str],
    scripted_model: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    """The project lives on the agent; Claude's request to run a command there is
    approved in the browser, and the agent's CLI runs it in the agent's directory."""
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Finished."}))
    code = tmp_path / "laptop-code"
    (code / "app").mkdir(parents=True)
    server = servers.start(FAKE_AGENT, *HEARTBEATS, record_spawns=False)
    async with await connect(server) as admin:
        secret = (await admin.request("token.create", name="laptop", scope="agent"))["secret"]
        cli_env = {k: v for k, v in claude_env.items() if k != "HOME"}
        claude = ["--claude-bin", str(bundled_claude_bin.path)]
        await agents(server, secret, "--allowed-root", str(code), *claude, env=cli_env)
        await status_until(admin, True, timeout=30)
        await admin.add_project(str(code / "app"), None, "laptop")
    async with browsing(server) as pages:
        page = await pages.open()
        await expect(page.locator(".project .badge.agent")).to_have_text("on laptop")
        await send(page, "create the file")
        card = page.locator(".approval")
        await expect(card.locator("pre.command")).to_have_text("$ touch created.txt")
        await card.locator("button.allow").click()
        await expect(page.locator(".approval")).to_have_count(0)
        await expect(page.locator(".run-summary")).to_contain_text("completed")
    assert (code / "app" / "created.txt").exists()
