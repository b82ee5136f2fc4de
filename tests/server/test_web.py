"""The web UI's HTTP side: the page and its files without a token, the token check,
the Host check, and a clear page when the UI was not built."""

from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.testclient import TestClient

from switchboard.server.web import CONTENT_SECURITY_POLICY, web_routes
from tests.conftest import FAKE_AGENT, ServerFactory


def test_the_built_ui_is_served_without_a_token_and_checks_one(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    page = httpx.get(f"{server.url}/", timeout=5)
    assert page.status_code == 200, "the test command builds the UI before the tests"
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    script = page.text.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/assets/") and httpx.get(f"{server.url}{script}").status_code == 200
    check = f"{server.url}/api/token/check"
    assert httpx.post(check, json={"token": server.token}).json() == {
        "valid": True,
        "role": "admin",
    }
    assert httpx.post(check, json={"token": "wrong"}).json() == {"valid": False, "role": None}
    foreign = httpx.get(f"{server.url}/", headers={"Host": "rebind.attacker.example"})
    assert foreign.status_code == 400  # the page is public, the Host check is not lifted


def test_a_token_check_survives_any_body() -> None:
    client = TestClient(Starlette(routes=web_routes("s3cret")))
    for body in (b"not json", b"[1]", b'{"token": 7}', b"{" + b" " * 5000 + b"}", b""):
        answer = client.post("/api/token/check", content=body)
        assert answer.status_code == 200, body
        assert answer.json() == {"valid": False, "role": None}, body
    assert client.get("/api/token/check").status_code == 405


def test_an_unbuilt_ui_says_how_to_build_it(tmp_path: Path) -> None:
    client = TestClient(Starlette(routes=web_routes("s3cret", dist=tmp_path / "missing")))
    page = client.get("/")
    assert page.status_code == 503 and "npm run build" in page.text
    assert client.get("/assets/index.js").status_code == 404
