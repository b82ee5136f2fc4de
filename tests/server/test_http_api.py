"""The HTTP API of a real server (the fake agent stands in for the CLI): every endpoint,
and how each refuses what it cannot do, with the /ws error's code and a status."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.server.api.operations import OPERATIONS
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.http_api import api, events, until_run_ends
from tests.support.hub import connect
from tests.support.server import RunningServer

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]


def start(servers: ServerFactory, *args: str, mode: str = "turns", n: int = 2) -> RunningServer:
    """A server whose CLI is the fake agent in ``mode``."""
    return servers.start(
        FAKE_AGENT, *args, record_spawns=False, FAKE_AGENT_MODE=mode, FAKE_AGENT_N=str(n)
    )


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The refusal's body, once it has the status, the code and a message."""
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), body
    assert body["type"] == "error" and body["message"]
    return dict(body)


@pytest.fixture
def client(servers: ServerFactory) -> Iterator[httpx.Client]:
    with api(start(servers, "--max-message-bytes", "4096")) as http:
        yield http


def test_projects_are_added_listed_and_removed(client: httpx.Client, project_dir: Path) -> None:
    assert client.get("/api/projects").json() == {"projects": []}
    added = client.post("/api/projects", json={"path": str(project_dir), "name": "web"})
    assert added.status_code == 201
    project = added.json()["project"]
    assert (project["name"], project["path"]) == ("web", str(project_dir))
    assert [p["id"] for p in client.get("/api/projects").json()["projects"]] == [project["id"]]
    refused(client.post("/api/projects", json={"path": str(project_dir)}), 409, "duplicate")
    missing = str(project_dir / "missing")
    refused(client.post("/api/projects", json={"path": missing}), 400, "not_found")
    refused(client.post("/api/projects", json={"path": str(project_dir.parent)}), 409, "contains")
    removed = client.delete("/api/projects/web")
    assert (removed.status_code, removed.json()["project"]["id"]) == (200, project["id"])
    assert client.get("/api/projects").json() == {"projects": []}
    refused(client.delete("/api/projects/web"), 404, "unknown_project")


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "bad_json"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "bad_message"),
        (b'{"text": "hi"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (b'{"text": ""}', {"Content-Type": "application/json"}, 400, "bad_message"),
        (
            b'{"text": "hi", "surprise": 1}',
            {"Content-Type": "application/json"},
            400,
            "bad_message",
        ),
        (
            b'{"text": "hi", "type": "cancel"}',
            {"Content-Type": "application/json"},
            400,
            "bad_message",
        ),
        (
            b'{"text": "hi", "project": "x"}',
            {"Content-Type": "application/json"},
            400,
            "bad_message",
        ),
        (
            b'{"text": "' + b"x" * 5000 + b'"}',
            {"Content-Type": "application/json"},
            413,
            "too_large",
        ),
        (b"[" * 70 + b"]" * 70, {"Content-Type": "application/json"}, 400, "bad_message"),
        (
            b'{"text": "hi", "options": {"permission_mode": "bypassPermissions"}}',
            {"Content-Type": "application/json"},
            400,
            "permission_mode_not_allowed",
        ),
    ],
)
def test_a_bad_body_is_refused_as_ws_refuses_the_frame(
    client: httpx.Client,
    project_dir: Path,
    content: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
    response = client.post("/api/projects/project/prompts", content=content, headers=headers)
    refused(response, status, code)
    assert client.get("/api/projects/project/runs").json() == {"runs": []}  # nothing ran


def test_a_body_over_the_limit_is_refused_without_a_length_too(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"path": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/api/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    refused(response, 413, "too_large")


def test_no_token_no_route_and_wrong_methods(servers: ServerFactory) -> None:
    server = start(servers)
    anonymous = httpx.get(f"{server.url}/api/projects", timeout=10)
    refused(anonymous, 401, "unauthorized")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{server.url}/api/projects", headers={"Authorization": "Bearer no"})
    refused(wrong, 401, "unauthorized")
    in_query = httpx.get(f"{server.url}/api/projects?token={server.token}", timeout=10)
    assert in_query.status_code == 200
    with api(server) as client:
        refused(client.get("/api/nothing/here"), 404, "no_route")
        not_allowed = refused(client.put("/api/projects"), 405, "method_not_allowed")
        assert "PUT" in not_allowed["message"]
        assert client.put("/api/projects").headers["allow"] == "GET, HEAD, POST"
    # the web UI's token check is still a page path: no token needed
    check = httpx.post(f"{server.url}/api/token/check", json={"token": server.token}, timeout=10)
    assert check.json()["valid"] is True


def test_prompts_queue_runs_that_list_newest_first_a_page_at_a_time(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers)
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        refused(
            client.post("/api/projects/nope/prompts", json={"text": "hi"}), 404, "unknown_project"
        )
        runs = []
        for text in ("one", "two", "three"):
            sent = client.post("/api/projects/project/prompts", json={"text": text})
            assert sent.status_code == 202
            runs.append(sent.json()["run"])
        assert [run["prompt"] for run in runs] == ["one", "two", "three"]
        assert runs[0]["state"] in {"queued", "running"}
        newest = client.get("/api/projects/project/runs", params={"limit": 2}).json()["runs"]
        assert [run["id"] for run in newest] == [runs[2]["id"], runs[1]["id"]]
        older = client.get("/api/projects/project/runs", params={"before": runs[1]["id"]})
        assert [run["id"] for run in older.json()["runs"]] == [runs[0]["id"]]
        oldest = client.get("/api/projects/project/runs", params={"before": runs[0]["id"]})
        assert oldest.json() == {"runs": []}
        unknown = client.get("/api/projects/project/runs", params={"before": "nope"})
        refused(unknown, 404, "unknown_run")
        refused(client.get("/api/projects/project/runs?limit=101"), 400, "bad_message")
        refused(client.get("/api/projects/project/runs?limit=many"), 400, "bad_message")
        refused(client.get("/api/projects/nope/runs"), 404, "unknown_project")


async def test_a_listed_run_shows_how_it_ended(servers: ServerFactory, project_dir: Path) -> None:
    server = start(servers)
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        async with events(server, "project") as stream:
            run = client.post("/api/projects/project/prompts", json={"text": "go"}).json()["run"]
            await until_run_ends(stream, run["id"])
        [listed] = client.get("/api/projects/project/runs").json()["runs"]
    assert (listed["id"], listed["state"], listed["num_turns"]) == (run["id"], "completed", 1)
    assert listed["finished_at"] >= listed["started_at"] >= listed["created_at"]


def test_a_page_of_runs_stays_within_the_message_limit(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers, "--max-message-bytes", "4096", "--max-queued-runs", "10", mode="hang")
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        sent = [
            client.post("/api/projects/project/prompts", json={"text": f"{i}" * 1500}).json()
            for i in range(6)
        ]
        pages: list[list[str]] = []
        before: dict[str, str] = {}
        while True:
            page = client.get("/api/projects/project/runs", params=before)
            assert len(page.content) <= 4096
            ids = [run["id"] for run in page.json()["runs"]]
            if not ids:
                break
            pages.append(ids)
            before = {"before": ids[-1]}
    assert all(1 <= len(ids) < 6 for ids in pages) and len(pages) > 1
    assert [i for ids in pages for i in ids] == [s["run"]["id"] for s in reversed(sent)]


async def test_cancel_a_queued_run_and_the_running_one(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers, "--max-queued-runs", "1", "--interrupt-grace", "0.5", mode="hang")
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        async with events(server, "project") as stream:
            running = client.post("/api/projects/project/prompts", json={"text": "a"}).json()
            queued = client.post("/api/projects/project/prompts", json={"text": "b"}).json()
            full = client.post("/api/projects/project/prompts", json={"text": "c"})
            refused(full, 429, "queue_full")
            assert full.headers["retry-after"]
            cancelled = client.post(f"/api/projects/project/runs/{queued['run']['id']}/cancel")
            assert (cancelled.status_code, cancelled.json()["run"]["state"]) == (202, "cancelled")
            stopping = client.post("/api/projects/project/cancel")
            assert stopping.status_code == 202
            assert stopping.json()["run"]["id"] == running["run"]["id"]
            seen = await until_run_ends(stream, running["run"]["id"])
        assert seen[-1].json["data"]["state"] == "cancelled"
        refused(client.post("/api/projects/project/cancel"), 409, "nothing_to_cancel")
        refused(client.post("/api/projects/project/runs/nope/cancel"), 409, "nothing_to_cancel")
        refused(client.post("/api/projects/nope/cancel"), 404, "unknown_project")


async def test_a_confirmation_is_answered_once(servers: ServerFactory, project_dir: Path) -> None:
    server = start(servers, mode="ask")
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        async with events(server, "project") as stream:
            run = client.post("/api/projects/project/prompts", json={"text": "x"}).json()["run"]
            asked = None
            while asked is None:
                message = await stream.next()
                assert message is not None
                data = message.json.get("data") or {}
                if message.json.get("kind") == "confirmation":
                    asked = data["confirmation"]
            url = f"/api/confirmations/{asked['id']}/answer"
            refused(client.post(url, json={"response": "maybe"}), 400, "invalid_option")
            refused(client.post(url, json={"response": "allow", "id": 3}), 400, "bad_message")
            answered = client.post(url, json={"response": "allow"})
            assert answered.status_code == 200
            assert answered.json()["confirmation"]["id"] == asked["id"]
            seen = await until_run_ends(stream, run["id"])
        result = [m.json["data"] for m in seen if m.json.get("kind") == "cli"][-1]
        assert result["answer"]["response"]["behavior"] == "allow"
        refused(client.post(url, json={"response": "deny"}), 409, "already_answered")
        refused(
            client.post("/api/confirmations/nope/answer", json={"response": "allow"}),
            404,
            "unknown_confirmation",
        )


def test_too_many_requests_are_refused_with_retry_after(servers: ServerFactory) -> None:
    server = start(servers, "--request-rate", "0.5", "--request-burst", "2")
    with api(server) as client:
        statuses = [client.get("/api/projects").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = refused(client.get("/api/projects"), 429, "rate_limited")
        assert "slow down" in limited["message"]
        assert client.get("/api/projects").headers["retry-after"] == "1"


def test_the_served_openapi_document_is_the_committed_one(client: httpx.Client) -> None:
    served = client.get("/api/openapi.json")
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert served.text == committed, (
        "docs/openapi.json is stale: python -m switchboard.server.api.openapi docs/openapi.json"
    )
    assert json.loads(served.text)["openapi"] == "3.1.0"


async def test_runs_are_listed_over_ws_too(servers: ServerFactory, project_dir: Path) -> None:
    server = start(servers, mode="hang")
    async with await connect(server) as ws:
        await ws.add_project(str(project_dir))
        first = await ws.prompt("project", "a")
        second = await ws.prompt("project", "b")
        ack = await ws.request("run.list", project="project", limit=1)
        assert [run["id"] for run in ack["runs"]] == [second["id"]]
        ack = await ws.request("run.list", project="project", before=second["id"])
        assert [run["id"] for run in ack["runs"]] == [first["id"]]


async def test_a_viewer_token_reads_but_may_not_change_anything(
    servers: ServerFactory, project_dir: Path
) -> None:
    server = start(servers)
    async with await connect(server) as ws:
        created = await ws.request("token.create", name="watcher", scope="viewer")
    with api(server) as admin, api(server, created["secret"]) as viewer:
        admin.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        assert viewer.get("/api/projects").status_code == 200
        assert viewer.get("/api/projects/project/runs").status_code == 200
        bodies = {
            "addProject": {"path": str(project_dir)},
            "submitPrompt": {"text": "x"},
            "answerConfirmation": {"response": "allow"},
        }
        values = {"project": "project", "run": "r" * 16, "confirmation_id": "c" * 12}
        changing = [op for op in OPERATIONS if op.method != "GET"]
        assert len(changing) >= 6
        for op in changing:  # every endpoint that changes something
            path = op.path.format(**{name: values[name] for name in op.path_fields})
            answer = viewer.request(op.method, path, json=bodies.get(op.operation_id, {}))
            refused(answer, 403, "forbidden")
        refused(viewer.get("/api/audit"), 403, "forbidden")
        async with events(server, "project", token=created["secret"]) as stream:
            first = await stream.next()
            assert first is not None and first.event == "ack"
