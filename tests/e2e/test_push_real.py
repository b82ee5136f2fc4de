"""Push notifications end to end: a real server running the real CLI pushes to a loopback
receiver that the test runs in place of a push service (and of a webhook), and the
test, as the browser, checks the VAPID signature and decrypts what it was sent.

No client reports presence at first, so the permission prompt and the run's end are
pushed; then a client reports that it shows the project, and a run's end is not; then
it reports it no longer does, and the next one is pushed again.
"""

import json
from typing import Any

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import add_and_watch, connect, follow, next_event
from tests.support.push_service import Browser, PushReceiver, Received, verify_vapid
from tests.support.turns import TOUCH

pytestmark = [pytest.mark.timeout(150), pytest.mark.real_cli]

CONTACT = "mailto:ops@example.org"


async def pushed(
    receiver: PushReceiver, browser: Browser, key: str, path: str
) -> tuple[dict[str, Any], Received]:
    """The next push to ``path``: its VAPID claims checked, its payload decrypted."""
    push = await receiver.next()
    assert push.path == path
    claims = verify_vapid(push, key)
    assert claims["aud"] == receiver.origin and claims["sub"] == CONTACT
    assert push.headers["ttl"].isdigit() and int(push.headers["ttl"]) > 0
    return browser.decrypt(push), push


async def test_alerts_are_pushed_encrypted_and_signed_unless_a_client_shows_the_project(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Any,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of(
            {"tool_use": TOUCH}, {"text": "Finished."}, {"text": "Again."}, {"text": "Third."}
        )
    )
    browser = Browser()
    with PushReceiver() as push_service, PushReceiver() as webhook:
        server = servers.start(
            bundled_claude_bin.path,
            "--push-allow-http",
            "--push-contact",
            CONTACT,
            "--notify-url",
            webhook.url("/hook?secret=s3cret"),
        )
        async with await connect(server) as client:
            key = client.snapshot["push_public_key"]
            assert isinstance(key, str) and client.snapshot["limits"]["push_idle_seconds"] == 60
            await client.request(
                "push.subscribe", subscription=browser.subscription(push_service.url("/p/one"))
            )
            project = await add_and_watch(client, project_dir, "pushy")

            # 1. nobody shows the project: Claude's permission prompt is pushed
            run = await client.prompt(project["id"], "create the file")
            required = (await next_event(client, "confirmation_required"))["confirmation"]
            alert, push = await pushed(push_service, browser, key, "/p/one")
            assert push.headers["urgency"] == "high"
            assert alert["kind"] == "confirmation" and alert["confirmation"] == required["id"]
            assert alert["title"] == "pushy: Claude asks to use Bash"
            assert alert["body"] == "touch created.txt"
            assert (alert["project"], alert["project_name"], alert["run"]) == (
                project["id"],
                "pushy",
                run["id"],
            )
            hook = await webhook.next()
            assert hook.path == "/hook?secret=s3cret"
            assert hook.headers["content-type"] == "application/json"
            assert json.loads(hook.body) == alert  # the webhook gets the same alert

            # ... and so is the run's end
            await client.answer(required["id"], "allow")
            assert (await follow(client, run["id"])).final["state"] == "completed"
            alert, push = await pushed(push_service, browser, key, "/p/one")
            assert push.headers["urgency"] == "normal"
            assert (alert["kind"], alert["tag"], alert["title"]) == (
                "run_completed",
                run["id"],
                "pushy: run finished",
            )
            assert alert["body"].startswith("create the file")
            assert json.loads((await webhook.next()).body)["kind"] == "run_completed"

            # 2. a client shows the project: its run's end is not pushed
            await client.request("presence", projects=["pushy"], visible=True)
            second = await client.prompt(project["id"], "again")
            assert (await follow(client, second["id"])).final["state"] == "completed"

            # 3. it stopped showing it: pushed again (and nothing came for the second)
            await client.request("presence", projects=[project["id"]], visible=False)
            third = await client.prompt(project["id"], "once more")
            assert (await follow(client, third["id"])).final["state"] == "completed"
            alert, _ = await pushed(push_service, browser, key, "/p/one")
            assert (alert["kind"], alert["tag"]) == ("run_completed", third["id"])
            assert json.loads((await webhook.next()).body)["tag"] == third["id"]
            assert push_service.taken() == [] and webhook.taken() == []

            # unsubscribed: no more pushes (the webhook still gets them)
            await client.request("push.unsubscribe", endpoint=push_service.url("/p/one"))
    assert "s3cret" not in server.log()  # logs show the webhook's host, not its secret


async def test_subscriptions_are_checked_bounded_and_need_an_operator(
    servers: ServerFactory, bundled_claude_bin: ClaudeBinary
) -> None:
    browser = Browser()
    server = servers.start(bundled_claude_bin.path, "--push-max-subscriptions", "1")
    async with await connect(server) as client:
        refusals = {
            "http://push.example.org/x": "must be https",
            "https://127.0.0.1/x": "not an address or localhost",
            "https://localhost/x": "not an address or localhost",
            "https://user:pw@push.example.org/x": "user name or password",
        }
        for endpoint, why in refusals.items():
            with pytest.raises(RequestError) as refused:
                await client.request("push.subscribe", subscription=browser.subscription(endpoint))
            assert refused.value.code == "endpoint_not_allowed" and why in str(refused.value)
        bad_key = browser.subscription("https://push.example.org/x")
        bad_key["keys"]["p256dh"] = bad_key["keys"]["p256dh"][:-4] + "AAAA"
        with pytest.raises(RequestError) as refused:
            await client.request("push.subscribe", subscription=bad_key)
        assert refused.value.code == "endpoint_not_allowed"
        too_long = browser.subscription("https://push.example.org/" + "x" * 3000)
        with pytest.raises(RequestError) as refused:
            await client.request("push.subscribe", subscription=too_long)
        assert refused.value.code == "bad_message"

        first = browser.subscription("https://push.example.org/one")
        await client.request("push.subscribe", subscription=first)
        await client.request("push.subscribe", subscription=first)  # the same: replaced
        with pytest.raises(RequestError) as refused:
            await client.request(
                "push.subscribe", subscription=browser.subscription("https://push.example.org/two")
            )
        assert refused.value.code == "limit_reached"
        await client.request("push.unsubscribe", endpoint="https://push.example.org/one")
        await client.request(
            "push.subscribe", subscription=browser.subscription("https://push.example.org/two")
        )
        with pytest.raises(RequestError) as refused:
            await client.request("presence", projects=["no-such-project"], visible=True)
        assert refused.value.code == "unknown_project"

        viewer = await client.request("token.create", name="watcher", scope="viewer")
    async with await SwitchboardClient.connect(server.url, viewer["secret"]) as watcher:
        await watcher.request("presence", projects=[], visible=True)  # a viewer may
        with pytest.raises(RequestError) as refused:
            await watcher.request(
                "push.subscribe", subscription=browser.subscription("https://push.example.org/3")
            )
        assert refused.value.code == "forbidden"
