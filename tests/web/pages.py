"""Pages of the web UI in Debian's Chromium, watched for console errors, against a real
server; and the few things every web test does with them (add a project, send a
prompt, take a screenshot)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.support.browser import chromium
from tests.support.hub import connect
from tests.support.server import RunningServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

Scheme = Literal["light", "dark"]


class Pages:
    """Pages of one browser, each watched for console errors and page errors."""

    def __init__(self, browser: Browser, server: RunningServer, base_url: str) -> None:
        self.browser = browser
        self.server = server
        self.base_url = base_url
        self.problems: list[str] = []
        self.socket_urls: list[str] = []
        """Every WebSocket a page opened: the token must be in none of their URLs (it
        travels as a subprotocol, out of proxies' logs and devtools' address column)."""

    async def new_page(self, viewport: dict[str, int] = DESKTOP, scheme: Scheme = "light") -> Page:
        """A page in a fresh browser context (its own storage), watched for errors."""
        context = await self.browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
        page = await context.new_page()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))
        page.on("websocket", lambda socket: self.socket_urls.append(socket.url))
        return page

    async def open(self, viewport: dict[str, int] = DESKTOP, scheme: Scheme = "light") -> Page:
        """The UI, opened with the token in the URL fragment, once connected."""
        page = await self.new_page(viewport, scheme)
        await page.goto(f"{self.base_url}/#token={self.server.token}")
        await expect(page.locator(".connection")).to_have_text("connected")
        return page

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")


@asynccontextmanager
async def browsing(server: RunningServer, base_url: str | None = None) -> AsyncIterator[Pages]:
    async with chromium() as browser:
        pages = Pages(browser, server, base_url or server.url)
        yield pages
    assert pages.problems == []
    assert pages.socket_urls  # (so that the check below cannot pass by seeing nothing)
    assert not [url for url in pages.socket_urls if server.token in url or "token=" in url]


@asynccontextmanager
async def scripted_page(
    server: RunningServer, project: Path, model: ScriptedModelServer, *turns: dict[str, Any]
) -> AsyncIterator[tuple[Pages, Page]]:
    """The model's script, the project, and a page open on it."""
    model.set_script(Script.of(*turns))
    await add_project(server, project)
    async with browsing(server) as pages:
        yield pages, await pages.open()


async def add_project(server: RunningServer, path: Path) -> str:
    async with await connect(server) as client:
        return str((await client.add_project(str(path)))["id"])


async def send(page: Page, text: str, mode: str | None = None) -> None:
    if mode is not None:
        await page.select_option("select[aria-label='Permission mode']", mode)
    await page.fill("textarea[aria-label='Prompt']", text)
    await page.click(".prompt-box button[type=submit]")


async def shoot(page: Page, name: str, *also: Path) -> None:
    """A screenshot in build/screenshots (and in each of ``also``)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    for directory in also:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{name}.png").write_bytes(image)
