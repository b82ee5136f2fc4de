"""HTTP surface of a real server: /healthz, the demo page, Host checks."""

import stat
from pathlib import Path

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.server import start_server


def test_healthz_needs_no_token(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    response = httpx.get(f"{server.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readyz_needs_no_token_and_says_ready(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    response = httpx.get(f"{server.url}/readyz", timeout=5)
    assert (response.status_code, response.json()["status"]) == (200, "ready")


def test_demo_page_needs_the_token(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    refused = httpx.get(f"{server.url}/ws-demo.html", timeout=5)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    page = httpx.get(f"{server.url}/ws-demo.html?token={server.token}", timeout=5)
    assert page.status_code == 200
    assert "/ws/claude" in page.text and "send {prompt,meta}" not in page.text
    bearer = httpx.get(
        f"{server.url}/ws-demo.html", headers={"Authorization": f"Bearer {server.token}"}, timeout=5
    )
    assert bearer.status_code == 200


def test_foreign_host_header_is_refused(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    response = httpx.get(
        f"{server.url}/ws-demo.html?token={server.token}",
        headers={"Host": "rebind.attacker.example"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "Host" in response.json()["error"]


def test_configured_host_name_is_accepted(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, "--allowed-host", "box.lan", record_spawns=False)
    response = httpx.get(
        f"{server.url}/ws-demo.html?token={server.token}",
        headers={"Host": "box.lan:1234"},
        timeout=5,
    )
    assert response.status_code == 200


def test_generated_token_is_stored_0600_and_printed(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    token_file = server.data_dir / "token"
    assert token_file.read_text().strip() == server.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_token_never_appears_in_the_log(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    httpx.get(f"{server.url}/ws-demo.html?token={server.token}", timeout=5)
    server.stop()
    assert server.token not in server.log()
    assert "token=***" in server.log()


async def test_a_debug_log_of_handshake_headers_shows_no_token(servers: ServerFactory) -> None:
    """At debug level the handshake's headers are logged: Authorization and the web
    UI's subprotocol offer carry the token there."""
    server = servers.start(FAKE_AGENT, "--log-level", "debug", record_spawns=False)
    offer = [Subprotocol("switchboard"), Subprotocol(f"bearer.{server.token}")]
    async with websockets.connect(f"{server.ws_url}/ws", subprotocols=offer) as ws:
        await ws.recv()
    headers = {"Authorization": f"Bearer {server.token}"}
    async with websockets.connect(f"{server.ws_url}/ws", additional_headers=headers) as ws:
        await ws.recv()
    server.stop()
    log = server.log()
    assert "bearer.***" in log and "Bearer ***" in log  # the headers were logged...
    assert server.token not in log  # ...without the token


def test_token_from_environment(servers: ServerFactory) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False, SWITCHBOARD_TOKEN="env-token-123")
    assert server.token == "env-token-123"
    assert not (server.data_dir / "token").exists()


def test_empty_token_file_is_replaced_not_trusted(servers: ServerFactory, tmp_path: Path) -> None:
    server = servers.start(FAKE_AGENT, record_spawns=False)
    server.stop()
    (server.data_dir / "token").write_text("")
    restarted = start_server(
        tmp_path / "server0", servers.env, ["--data-dir", str(server.data_dir)]
    )
    servers.servers.append(restarted)
    assert restarted.token and restarted.token != server.token
    refused = httpx.get(f"{restarted.url}/ws-demo.html?token=", timeout=5)
    assert refused.status_code == 401
