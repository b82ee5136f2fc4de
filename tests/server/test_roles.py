"""People's tokens have roles (viewer, operator, admin): what each may send on /ws, who
the events and the audit list name, and what a role token may not open."""

from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.protocol.messages import CLIENT_TYPES
from switchboard.server.roles import REQUIRED_ROLE
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import connect, follow
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(90)

CONFIRMATION = "c" * 12
"""An id no confirmation has: the role check comes before the lookup."""


def samples(project: str) -> dict[str, dict[str, Any]]:
    """A valid request of every type a viewer may not send (valid, so that what refuses
    it is the role and not the message's shape)."""
    return {
        "prompt": {"project": project, "text": "hello"},
        "cancel": {"project": project},
        "confirmation_response": {"confirmation_id": CONFIRMATION, "response": "allow"},
        "pause_timer": {"confirmation_id": CONFIRMATION},
        "resume_timer": {"confirmation_id": CONFIRMATION},
        "session.new": {"project": project},
        "session.use": {"project": project, "session": "0" * 8 + "-0000-4000-8000-" + "0" * 12},
        "skill.event": {
            "project": project,
            "event": {"type": "skill_started", "skill_id": "s1", "name": "n", "total_steps": 1},
        },
        "confirmation.request": {
            "project": project,
            "skill_id": "s1",
            "step_index": 0,
            "prompt": "go?",
            "options": ["yes"],
        },
        "confirmation.withdraw": {"confirmation_id": CONFIRMATION},
        "diagnostics.publish": {"project": project, "path": "a.py", "diagnostics": []},
        "project.add": {"path": "/nowhere"},
        "project.remove": {"project": project},
        "project.retention": {"project": project, "max_age_seconds": 60},
        "project.budget": {"project": project, "daily_usd": 1},
        "project.back_channel": {"project": project, "enabled": False},
        "permission_mode.set": {"project": project, "mode": "plan"},
        "permissions.remove": {"project": project, "rule": "r1"},
        "token.create": {"name": "someone", "scope": "viewer"},
        "token.list": {},
        "token.revoke": {"token": "t1"},
        "audit.list": {},
        "push.subscribe": {
            "subscription": {
                "endpoint": "https://push.example.org/x",
                "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
            }
        },
        "push.unsubscribe": {"endpoint": "https://push.example.org/x"},
    }


async def make_token(server: RunningServer, name: str, scope: str) -> str:
    async with await connect(server) as admin:
        ack = await admin.request("token.create", name=name, scope=scope)
    assert ack["token"]["scope"] == scope and ack["token"]["projects"] is None
    return str(ack["secret"])


async def as_token(server: RunningServer, secret: str) -> SwitchboardClient:
    return await SwitchboardClient.connect(server.url, secret)


async def answered_event(client: SwitchboardClient) -> dict[str, Any]:
    async for message in client.messages():
        if message.get("type") == "event" and message["data"].get("type") == (
            "confirmation_answered"
        ):
            return message
    raise AssertionError("the connection ended first")


async def test_every_request_type_has_a_role() -> None:
    assert set(REQUIRED_ROLE) == set(CLIENT_TYPES)


async def test_a_viewer_is_refused_every_request_that_changes_something(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as admin:
        project = await admin.add_project(str(project_dir))
    secret = await make_token(server, "vera", "viewer")
    mutating = {kind for kind, role in REQUIRED_ROLE.items() if role != "viewer"}
    requests = samples(project["id"])
    assert mutating <= set(requests), f"add a sample of {mutating - set(requests)}"
    async with await as_token(server, secret) as viewer:
        assert (viewer.snapshot["scope"], viewer.snapshot["role"]) == ("full", "viewer")
        assert [p["id"] for p in viewer.snapshot["projects"]] == [project["id"]]
        for kind in sorted(mutating):
            with pytest.raises(RequestError) as refused:
                await viewer.request(kind, **requests[kind])
            assert refused.value.code == "forbidden", kind
            assert f"a viewer token may not send {kind}" in refused.value.message
        # what a viewer may do still works on the same connection
        assert (await viewer.request("project.list"))["projects"][0]["id"] == project["id"]
        assert await viewer.subscribe(project["id"], since=0) == 0
    async with await connect(server) as admin:
        listed = await admin.request("project.list")
        assert [p["id"] for p in listed["projects"]] == [project["id"]], "nothing changed"
        assert [t["name"] for t in (await admin.request("token.list"))["tokens"]] == ["vera"]


async def test_only_an_admin_token_opens_ws_claude(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    secret = await make_token(server, "vera", "viewer")
    operator = await make_token(server, "otto", "operator")
    boss = await make_token(server, "ada", "admin")
    url = f"{server.url}/ws/claude"
    for person in (secret, operator):
        refused = httpx.get(url, headers={"Authorization": f"Bearer {person}"}, timeout=5)
        assert refused.status_code == 403 and "only an admin's token" in refused.text
    # an admin passes the token check (a plain GET is then not a WebSocket upgrade)
    passed = httpx.get(url, headers={"Authorization": f"Bearer {boss}"}, timeout=5)
    assert passed.status_code not in (401, 403)
    check = httpx.post(f"{server.url}/api/token/check", json={"token": secret}, timeout=5)
    assert check.json() == {"valid": True, "role": "viewer"}


async def test_an_operator_runs_and_answers_and_the_audit_list_names_everyone(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as admin:
        project = await admin.add_project(str(project_dir))
    operator = await make_token(server, "otto", "operator")
    boss = await make_token(server, "ada", "admin")
    async with await connect(server) as admin:
        producer = await admin.request("token.create", name="ci-skill", scope="produce")
    async with await as_token(server, operator) as otto:
        assert otto.snapshot["role"] == "operator"
        await otto.subscribe(project["id"], since=0)
        run = await otto.prompt(project["id"], "hello")
        assert run["by"] == "otto"
        seen = await follow(otto, run["id"])
        assert seen.final["state"] == "completed" and seen.final["by"] == "otto"
        with pytest.raises(RequestError) as refused:
            await otto.request("project.retention", project=project["id"], max_age_seconds=60)
        assert refused.value.code == "forbidden" and "needs the admin role" in refused.value.message
        with pytest.raises(RequestError) as refused:
            await otto.prompt(project["id"], "no asking", permission_mode="bypassPermissions")
        assert refused.value.code == "forbidden" and "only an admin" in refused.value.message
        # a skill asks; the operator answers; the answer names the operator
        async with await as_token(server, producer["secret"]) as skill:
            asked = await skill.request(
                "confirmation.request",
                project=project["id"],
                skill_id="s1",
                step_index=0,
                prompt="ship it?",
                options=["ship", "wait"],
            )
            confirmation_id = asked["confirmation"]["id"]
            await otto.request(
                "confirmation_response", confirmation_id=confirmation_id, response="ship"
            )
            answered = await answered_event(otto)
        assert answered["data"]["answered_by"] == "otto"
        assert answered["data"]["by"] == "client"
    async with await as_token(server, boss) as ada:
        assert ada.snapshot["role"] == "admin"
        await ada.request("project.retention", project=project["id"], max_age_seconds=3600)
        created = await ada.request("token.create", name="vic", scope="viewer")
        entries = (await ada.request("audit.list"))["audit"]
        with pytest.raises(RequestError) as refused:
            await ada.request("token.create", name="x", scope="viewer", projects=[project["id"]])
        assert refused.value.code == "bad_message" and "every project" in refused.value.message
    actions = [(e["by"], e["action"]) for e in reversed(entries)]
    assert actions == [
        ("server token", "project.add"),
        ("server token", "token.create"),
        ("server token", "token.create"),
        ("server token", "token.create"),
        ("otto", "prompt"),
        ("otto", "confirmation_response"),
        ("ada", "project.retention"),
        ("ada", "token.create"),
    ]
    by_action = {e["action"]: e for e in reversed(entries)}  # the newest of each
    assert by_action["prompt"]["detail"] == {
        "project": project["id"],
        "text": "hello",
        "options": {},
        "run": run["id"],
    }
    assert by_action["prompt"]["project"] == project["id"]
    assert by_action["confirmation_response"]["detail"]["response"] == "ship"
    assert by_action["confirmation_response"]["project"] == project["id"]
    assert by_action["token.create"]["detail"]["token"] == created["token"]["id"]
    assert "secret" not in str(entries)
    async with await connect(server) as admin:
        mine = (await admin.request("audit.list", project=project["id"], limit=2))["audit"]
        assert [e["action"] for e in mine] == ["project.retention", "confirmation_response"]
        older = await admin.request("audit.list", project=project["id"], before=mine[-1]["id"])
        assert [e["action"] for e in older["audit"]] == ["prompt", "project.add"]
        with pytest.raises(RequestError) as refused:
            await admin.request("audit.list", limit=5000)
        assert refused.value.code == "bad_message"


async def test_the_audit_list_over_http_is_an_admins(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    async with await connect(server) as admin:
        project = await admin.add_project(str(project_dir))
    operator = await make_token(server, "otto", "operator")
    url = f"{server.url}/api/audit"
    refused = httpx.get(url, headers={"Authorization": f"Bearer {operator}"}, timeout=5)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    prompted = httpx.post(
        f"{server.url}/api/projects/{project['id']}/prompts",
        headers={"Authorization": f"Bearer {operator}"},
        json={"text": "over http"},
        timeout=5,
    )
    assert prompted.status_code == 202 and prompted.json()["run"]["by"] == "otto"
    listed = httpx.get(
        url,
        params={"project": project["name"], "limit": 1},
        headers={"Authorization": f"Bearer {server.token}"},
        timeout=5,
    )
    assert listed.status_code == 200
    [entry] = listed.json()["audit"]
    assert (entry["by"], entry["action"], entry["project"]) == ("otto", "prompt", project["id"])
    assert entry["detail"]["text"] == "over http"
    assert entry["detail"]["run"] == prompted.json()["run"]["id"]
    bad = httpx.get(url, params={"limit": 0}, headers={"Authorization": f"Bearer {server.token}"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_message"
