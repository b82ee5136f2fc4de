"""The HTTP API's pure parts: SSE framing, the status of each error code, the request
rate per client, and the committed OpenAPI document."""

import json
import subprocess
import sys
from pathlib import Path
from typing import get_args

from switchboard.protocol.messages import ErrorCode, delta_frame, event_frame
from switchboard.server.api import openapi, sse
from switchboard.server.api.context import ClientLimiters
from switchboard.server.api.errors import STATUS, HttpOnlyCode
from tests.support.http_api import parse

ROOT = Path(__file__).resolve().parents[2]


def test_a_stored_event_is_an_unnamed_message_with_its_seq_as_id() -> None:
    frame = event_frame("p1", 42, epoch=1, run="r1", kind="cli", body='{"type":"assistant"}')
    assert sse.message(frame) == f"id: 42\ndata: {frame}\n\n".encode()
    [message], _ = parse(sse.message(frame).decode())
    assert (message.event, message.id, message.json) == ("message", "42", json.loads(frame))


def test_other_frames_are_named_after_their_type_and_carry_no_id() -> None:
    frame = delta_frame("p1", "r1", '{"type":"stream_event"}')
    assert sse.message(frame).startswith(b"event: delta\ndata: ")
    caught_up = '{"type":"caught_up","project":"p1","seq":7}'
    [message], _ = parse(sse.message(caught_up).decode())
    assert (message.event, message.id, message.json["seq"]) == ("caught_up", None, 7)


def test_line_breaks_between_tokens_become_data_lines_and_u2028_stays() -> None:
    body = '{"type":"assistant",\r\n"text":"a\u2028b",\n"n":\r1}'  # a CLI line is JSON text
    frame = event_frame("p1", 3, epoch=1, run=None, kind="cli", body=body)
    encoded = sse.message(frame)
    assert encoded.count(b"\ndata: ") == 4 and "\u2028".encode() in encoded
    [message], _ = parse(encoded.decode())
    assert message.json["data"] == {"type": "assistant", "text": "a\u2028b", "n": 1}
    assert message.id == "3"


def test_an_event_written_another_way_still_gets_its_id() -> None:
    frame = '{"seq": 9, "type": "event", "project": "p", "kind": "run", "data": {}}'
    assert sse.describe(frame) == ("event", 9)
    assert sse.describe('{"project": "p", "type": "caught_up", "seq": 4}') == ("caught_up", None)


def test_the_closing_message_says_why() -> None:
    [message], _ = parse(sse.closing(4008, "slow consumer").decode())
    assert message.event == "close"
    assert message.json == {"type": "close", "code": 4008, "reason": "slow consumer"}


def test_every_error_code_has_a_status() -> None:
    codes = set(get_args(ErrorCode)) | set(get_args(HttpOnlyCode))
    for nested in list(codes):
        codes |= set(get_args(nested))  # ErrorCode holds PathProblem, a Literal itself
    codes = {code for code in codes if isinstance(code, str)}
    assert codes - set(STATUS) == set()
    assert {STATUS[c] for c in ("unknown_project", "unknown_run", "unknown_confirmation")} == {404}
    assert (STATUS["forbidden"], STATUS["rate_limited"], STATUS["shutting_down"]) == (403, 429, 503)
    assert (STATUS["already_answered"], STATUS["history_trimmed"], STATUS["internal"]) == (
        409,
        410,
        500,
    )


def test_requests_are_counted_per_client_and_few_clients_are_kept() -> None:
    limiters = ClientLimiters(rate=0.001, burst=2, most=2)
    assert [limiters.allow("a") for _ in range(3)] == [True, True, False]
    assert limiters.allow("b")  # another client has its own budget
    assert limiters.allow("c")  # ...and a third pushes out the least recent, "a"
    assert limiters.allow("a")


def test_the_committed_openapi_document_is_current(tmp_path: Path) -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert openapi.render() == committed, (
        "docs/openapi.json is stale: python -m switchboard.server.api.openapi docs/openapi.json"
    )
    written = tmp_path / "openapi.json"
    command = [sys.executable, "-m", "switchboard.server.api.openapi", str(written)]
    subprocess.run(command, check=True, timeout=60)
    assert written.read_text(encoding="utf-8") == committed


def test_the_document_describes_every_endpoint_with_its_errors() -> None:
    document = json.loads(openapi.render())
    assert document["openapi"] == "3.1.0"
    operations = {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == {
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("DELETE", "/api/projects/{project}"),
        ("POST", "/api/projects/{project}/prompts"),
        ("GET", "/api/projects/{project}/runs"),
        ("POST", "/api/projects/{project}/cancel"),
        ("POST", "/api/projects/{project}/runs/{run}/cancel"),
        ("POST", "/api/confirmations/{confirmation_id}/answer"),
        ("GET", "/api/projects/{project}/events"),
        ("GET", "/api/audit"),
        ("GET", "/api/openapi.json"),
    }
    prompt = operations[("POST", "/api/projects/{project}/prompts")]
    body = prompt["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["text"] and body["additionalProperties"] is False
    assert set(body["properties"]) == {"text", "options"}
    assert {"202", "400", "401", "402", "403", "404", "413", "429"} <= set(prompt["responses"])
    events = operations[("GET", "/api/projects/{project}/events")]
    assert {p["name"] for p in events["parameters"]} == {"project", "since", "Last-Event-ID"}
    assert "text/event-stream" in events["responses"]["200"]["content"]


def test_the_doc_gives_every_code_its_status() -> None:
    text = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")
    rows = {
        int(line.split("|")[1]): line
        for line in text.splitlines()
        if line.startswith("| ") and line.split("|")[1].strip().isdigit()
    }
    for code, status in STATUS.items():
        assert f"`{code}`" in rows.get(status, ""), (code, status)
