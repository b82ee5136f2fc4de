"""Schemathesis against the OpenAPI document a real server serves: requests it generates
(valid ones, and ones that break the schema) for every endpoint, and not one answer may
be a server error, nor stray from the document.

Bounded: at most 5 generated cases per endpoint and phase, a fixed seed, two workers,
10 s per request, and the whole run inside ``RUN_SECONDS``. The event stream
(``streamEvents``) is left out: a valid request opens a stream that ends only when the
client closes it, which Schemathesis would count as a timeout; its refusals and its
stream are tested in test_http_api_events.py.

Every check runs but ``positive_data_acceptance``: it expects every request that fits
the schema to succeed, but a ``path`` that fits may name no directory, and a
``permission_mode`` that fits may be one this server refuses (400 with the reason).
"""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from switchboard.server.api.operations import OPERATIONS
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.http_api import api

pytestmark = pytest.mark.timeout(180)

BROKEN_API = Path(__file__).resolve().parents[1] / "fakes" / "broken_api.py"
RUN_SECONDS = 120


def schemathesis(
    document: Path, base_url: str, workdir: Path, token: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``schemathesis run`` on ``document`` against ``base_url``."""
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(document),
        "--url",
        base_url,
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--exclude-operation-id",
        "streamEvents",
        "--max-examples",
        "5",
        "--seed",
        "1",
        "--workers",
        "2",
        "--request-timeout",
        "10",
        "--generation-database",
        ":memory:",
        "--no-color",
    ]
    if token is not None:
        argv += ["--header", f"Authorization: Bearer {token}"]
    return subprocess.run(
        argv, cwd=workdir, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )


def test_no_generated_request_gets_a_server_error(
    servers: ServerFactory, project_dir: Path, tmp_path: Path
) -> None:
    server = servers.start(
        FAKE_AGENT,
        "--request-rate",
        "100000",
        "--request-burst",
        "100000",
        record_spawns=False,
        FAKE_AGENT_MODE="turns",
        FAKE_AGENT_N="2",
    )
    document = tmp_path / "served-openapi.json"
    with api(server) as client:
        client.post("/api/projects", json={"path": str(project_dir)}).raise_for_status()
        document.write_text(client.get("/api/openapi.json").text, encoding="utf-8")
    run = schemathesis(document, server.url, tmp_path, server.token)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.rsplit("SUMMARY", 1)[1]
    assert "passed" in summary and "failed" not in summary and "errored" not in summary, summary
    tested = next(line for line in run.stdout.splitlines() if "Tested:" in line)
    # every endpoint but the stream: the table's, and the OpenAPI document
    assert tested.split() == ["Tested:", str(len(OPERATIONS) + 1)], run.stdout
    assert " 500 " not in server.log()


def test_a_server_error_fails_the_run(tmp_path: Path) -> None:
    """The same run against an API with a bug: it must fail, naming the server error."""
    broken = subprocess.Popen([sys.executable, str(BROKEN_API)], stdout=subprocess.PIPE, text=True)
    try:
        assert broken.stdout is not None
        port = int(broken.stdout.readline())
        base_url = f"http://127.0.0.1:{port}"
        document = tmp_path / "broken-openapi.json"
        document.write_text(httpx.get(f"{base_url}/api/openapi.json", timeout=10).text)
        run = schemathesis(document, base_url, tmp_path)
    finally:
        broken.terminate()
        broken.wait(10)
        if broken.stdout is not None:
            broken.stdout.close()
    assert run.returncode != 0
    assert "Server error" in run.stdout, run.stdout
