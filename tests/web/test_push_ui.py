"""Push alerts in the web UI, in Debian's Chromium against a real server and the real
CLI (bundled build): the opt-in button, the service worker, and presence.

Headless Chromium has no push service: its ``PushManager.subscribe`` is refused
("permission denied"). The first test shows the page handles that refusal with the
real API. The second stands in for the push service only: ``PushManager.subscribe``
returns a subscription whose endpoint is the test's loopback receiver and whose keys
the test holds, so everything else is real: the page sends it over /ws, reports
presence, the server pushes (encrypted, signed) to the receiver while the page is not
focused and not while it is, and the page's real service worker shows the decrypted
alert (delivered to it through the DevTools protocol). What this cannot reach: a real
push service, and a click on the notification (headless Chromium shows none to click).
"""

import asyncio
import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket, expect

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import connect, follow, next_event
from tests.support.push_service import Browser, PushReceiver, b64url
from tests.support.server import RunningServer
from tests.support.turns import TOUCH
from tests.web.pages import Pages, add_project, browsing

pytestmark = pytest.mark.timeout(180)

FAKE_PUSH_SERVICE = """
(() => {
  const fake = (window.__fakePush = {
    endpoint: null, keys: null, asked: null, unsubscribed: 0, subscription: null,
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    const asked = btoa(String.fromCharCode(...key));
    fake.asked = { userVisibleOnly: options.userVisibleOnly, key: asked };
    fake.subscription = {
      endpoint: fake.endpoint,
      options: { applicationServerKey: key.slice().buffer, userVisibleOnly: true },
      toJSON: () => ({ endpoint: fake.endpoint, expirationTime: null, keys: fake.keys }),
      unsubscribe: async () => { fake.unsubscribed += 1; fake.subscription = null; return true; },
    };
    return fake.subscription;
  };
  PushManager.prototype.getSubscription = async function () { return fake.subscription; };
})();
"""
"""In place of the browser's push service: a subscription to the test's receiver."""


class Presences:
    """The page's ``presence`` requests, and the server's answers to them."""

    def __init__(self, page: Page) -> None:
        self.sent: dict[int, bool] = {}
        self.acked: list[bool] = []
        self.changed = asyncio.Event()
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        if message.get("type") == "presence":
            self.sent[message["id"]] = message["visible"]

    def _received(self, frame: str | bytes) -> None:
        message = json.loads(frame)
        if message.get("type") == "ack" and message.get("id") in self.sent:
            self.acked.append(self.sent[message["id"]])
            self.changed.set()

    async def acked_as(self, visible: bool) -> None:
        """Wait until the server has taken a report with this ``visible``, last."""
        async with asyncio.timeout(30):
            while not (self.acked and self.acked[-1] is visible):
                self.changed.clear()
                await self.changed.wait()


async def new_page(pages: Pages, server: RunningServer, fake_push: bool) -> Page:
    """A page allowed to notify (with the stand-in push service, if ``fake_push``)."""
    page = await pages.new_page()
    await page.context.grant_permissions(["notifications"], origin=server.url)
    if fake_push:
        await page.add_init_script(FAKE_PUSH_SERVICE)
    return page


async def open_app(page: Page, server: RunningServer) -> None:
    await page.goto(f"{server.url}/#token={server.token}")
    await expect(page.locator(".connection")).to_have_text("connected")


async def shown_notifications(page: Page) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = await page.evaluate(
        """() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
            ns.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                            requireInteraction: n.requireInteraction, data: n.data})))"""
    )
    return notes


async def deliver_to_service_worker(page: Page, server: RunningServer, payload: str) -> None:
    """Hand a push's payload to the page's service worker, as a push service would."""
    cdp = await page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    await cdp.send("ServiceWorker.enable")
    async with asyncio.timeout(10):
        while not [r for r in registrations if not r["isDeleted"]]:
            await asyncio.sleep(0.05)
    [registration] = {r["registrationId"] for r in registrations if not r["isDeleted"]}
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": server.url + "/", "registrationId": registration, "data": payload},
    )


async def shown_after_delivery(
    page: Page, server: RunningServer, payload: str
) -> list[dict[str, Any]]:
    """Deliver a push and return the notifications shown. DevTools' delivery to a
    worker that is still starting can be dropped (one CI run waited 10 s for nothing),
    so it is repeated, as a push service retries; the alert's tag makes a repeat
    replace the notification, so a second one would still show as one."""
    for _ in range(4):
        await deliver_to_service_worker(page, server, payload)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while not (notes := await shown_notifications(page)):
                    await asyncio.sleep(0.05)
                return notes
    raise AssertionError("the service worker showed no notification after 4 deliveries")


async def test_headless_chromiums_refusal_is_shown_and_the_service_worker_is_in_place(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary, project_dir: Path
) -> None:
    server = servers.start(bundled_claude_bin.path)
    (project_dir / "a").mkdir()
    (project_dir / "z").mkdir()
    await add_project(server, project_dir / "a")
    last = await add_project(server, project_dir / "z")  # not the one opened first
    async with await connect(server) as client:
        viewer = await client.request("token.create", name="watcher", scope="viewer")
    async with browsing(server) as pages:
        page = await new_page(pages, server, fake_push=False)
        await open_app(page, server)
        button = page.locator(".push-opt-in")
        await expect(button).to_have_text("Push: off")
        await expect(button).to_have_attribute("aria-pressed", "false")
        await button.click()
        await expect(page.locator(".toast")).to_contain_text("Push alerts could not be turned on")
        await expect(button).to_have_text("Push: off")
        # Chromium says why on the console (a Playwright context is off the record)
        incognito = [p for p in pages.problems if "Push API in incognito mode" in p]
        assert len(incognito) == 1 and pages.problems == incognito
        pages.problems.clear()
        scope = await page.evaluate(
            "navigator.serviceWorker.getRegistration('/').then((r) => r && r.active && r.scope)"
        )
        assert scope == server.url + "/"
        # a click on an alert opens the page at its project (#project=ID; the token is
        # in this browser's storage by now)
        await page.goto("about:blank")
        await page.goto(f"{server.url}/#project={last}")
        await expect(page.locator(f".project[data-project='{last}']")).to_have_class(
            "project selected"
        )
        assert "#" not in page.url
        # a viewer's token may not opt in: no button
        watcher = await pages.new_page()
        await watcher.goto(f"{server.url}/#token={viewer['secret']}")
        await expect(watcher.locator(".connection")).to_have_text("connected")
        await expect(watcher.locator(".push-opt-in")).to_be_hidden()


async def test_the_page_subscribes_reports_presence_and_shows_what_is_pushed(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Looked."}, {"tool_use": TOUCH}, {"text": "Done."})
    )
    keys = Browser()
    with PushReceiver() as push_service:
        server = servers.start(bundled_claude_bin.path, "--push-allow-http")
        project = await add_project(server, project_dir)
        async with browsing(server) as pages, await connect(server) as client:
            await client.subscribe(project)
            page = await new_page(pages, server, fake_push=True)
            presences = Presences(page)
            await open_app(page, server)
            await page.evaluate(
                "([endpoint, keys]) => Object.assign(window.__fakePush, {endpoint, keys})",
                [push_service.url("/browser/1"), keys.subscription("")["keys"]],
            )
            button = page.locator(".push-opt-in")
            await button.click()
            await expect(button).to_have_text("Push: on")
            await expect(button).to_have_attribute("aria-pressed", "true")
            asked = await page.evaluate("window.__fakePush.asked")
            assert asked["userVisibleOnly"] is True
            assert b64url(base64.b64decode(asked["key"])) == client.snapshot["push_public_key"]

            # The page is visible and focused: it shows the project, so no push.
            await presences.acked_as(True)
            looked = await client.prompt(project, "look")
            assert (await follow(client, looked["id"])).final["state"] == "completed"

            # It loses the focus: presence withdrawn, and Claude's question is pushed.
            await page.evaluate(
                "() => { document.hasFocus = () => false; dispatchEvent(new Event('blur')); }"
            )
            await presences.acked_as(False)
            run = await client.prompt(project, "create the file")
            required = (await next_event(client, "confirmation_required"))["confirmation"]
            push = await push_service.next()  # the first push of all: not the first run's end
            assert push.path == "/browser/1"
            alert = keys.decrypt(push)
            assert (alert["kind"], alert["confirmation"]) == ("confirmation", required["id"])

            # The page's service worker shows it.
            [note] = await shown_after_delivery(page, server, json.dumps(alert))
            assert (note["title"], note["body"], note["tag"]) == (
                alert["title"],
                "touch created.txt",
                required["id"],
            )
            assert note["requireInteraction"] is True and note["data"] == {"project": project}

            await client.answer(required["id"], "allow")
            assert (await follow(client, run["id"])).final["state"] == "completed"
            assert keys.decrypt(await push_service.next())["kind"] == "run_completed"

            # Pressed again: unsubscribed in the browser and on the server.
            await button.click()
            await expect(button).to_have_text("Push: off")
            assert await page.evaluate("window.__fakePush.unsubscribed") == 1
