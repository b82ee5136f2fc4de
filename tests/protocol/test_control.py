import json
from pathlib import Path
from typing import Any

import pytest

from switchboard.agents.claude.control import (
    ControlProtocol,
    ControlResult,
    HookCallback,
    McpMessage,
    PermissionRequest,
    RequestCancelled,
    UnsupportedRequest,
)
from switchboard.agents.claude.stream_json import CliMessage, decode_line
from switchboard.exceptions import ControlProtocolError

GOLDEN = Path(__file__).parent / "golden"


def message(data: dict[str, Any]) -> CliMessage:
    decoded = decode_line(json.dumps(data).encode())
    assert isinstance(decoded, CliMessage)
    return decoded


def sent(protocol: ControlProtocol) -> list[dict[str, Any]]:
    lines = protocol.data_to_send()
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    return [json.loads(line) for line in lines]


def answer(request_id: str, response: dict[str, Any] | None = None) -> CliMessage:
    body = {"subtype": "success", "request_id": request_id, "response": response or {}}
    return message({"type": "control_response", "response": body})


CAN_USE_TOOL = {
    "type": "control_request",
    "request_id": "c757e291",
    "request": {
        "subtype": "can_use_tool",
        "tool_name": "Bash",
        "input": {"command": "touch created.txt"},
        "permission_suggestions": [{"type": "setMode", "mode": "acceptEdits"}],
        "tool_use_id": "toolu_1",
        "blocked_path": "/p/created.txt",
    },
}


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda p: p.initialize(), {"subtype": "initialize", "hooks": None}),
        (lambda p: p.interrupt(), {"subtype": "interrupt"}),
        (
            lambda p: p.set_permission_mode("plan"),
            {"subtype": "set_permission_mode", "mode": "plan"},
        ),
        (lambda p: p.set_model("claude-x"), {"subtype": "set_model", "model": "claude-x"}),
    ],
)
def test_host_requests_are_framed_with_fresh_ids(call: Any, expected: dict[str, Any]) -> None:
    protocol = ControlProtocol()
    request_id = call(protocol)
    [line] = sent(protocol)
    assert line == {"type": "control_request", "request_id": request_id, "request": expected}
    assert protocol.pending_outbound == {request_id: expected["subtype"]}
    assert call(protocol) != request_id


def test_answer_resolves_the_matching_request() -> None:
    protocol = ControlProtocol()
    first = protocol.interrupt()
    second = protocol.set_permission_mode("acceptEdits")
    event = protocol.receive(answer(second, {"mode": "acceptEdits"}))
    assert event == ControlResult(second, "set_permission_mode", True, {"mode": "acceptEdits"})
    assert protocol.pending_outbound == {first: "interrupt"}


def test_error_answer_is_reported() -> None:
    protocol = ControlProtocol()
    request_id = protocol.send_request("bogus_thing")
    body = {"subtype": "error", "request_id": request_id, "error": "Unsupported control request"}
    event = protocol.receive(message({"type": "control_response", "response": body}))
    assert event == ControlResult(
        request_id, "bogus_thing", False, {}, "Unsupported control request"
    )


def test_unknown_permission_mode_is_refused_before_sending() -> None:
    protocol = ControlProtocol()
    with pytest.raises(ControlProtocolError):
        protocol.set_permission_mode("yolo")
    assert protocol.data_to_send() == []


def test_answer_to_an_unknown_request_is_a_protocol_error() -> None:
    with pytest.raises(ControlProtocolError):
        ControlProtocol().receive(answer("never-sent"))


def test_malformed_control_lines_are_protocol_errors() -> None:
    protocol = ControlProtocol()
    with pytest.raises(ControlProtocolError):
        protocol.receive(message({"type": "control_response", "response": "nope"}))
    with pytest.raises(ControlProtocolError):
        protocol.receive(message({"type": "control_request", "request": {}}))


def test_non_control_messages_are_ignored() -> None:
    assert ControlProtocol().receive(message({"type": "assistant"})) is None


def test_can_use_tool_becomes_a_permission_request() -> None:
    protocol = ControlProtocol()
    event = protocol.receive(message(CAN_USE_TOOL))
    assert isinstance(event, PermissionRequest)
    assert (event.request_id, event.tool_name, event.tool_use_id) == ("c757e291", "Bash", "toolu_1")
    assert event.input == {"command": "touch created.txt"}
    assert event.suggestions == [{"type": "setMode", "mode": "acceptEdits"}]
    assert event.request["blocked_path"] == "/p/created.txt"
    assert protocol.pending_inbound == {"c757e291": "can_use_tool"}
    assert protocol.data_to_send() == []  # waiting for us


def test_allow_and_deny_replies_match_the_cli_shape() -> None:
    protocol = ControlProtocol()
    protocol.receive(message(CAN_USE_TOOL))
    assert protocol.allow("c757e291", {"command": "touch other.txt"})
    assert sent(protocol) == [
        {
            "type": "control_response",
            "response": {
                "subtype": "success",
                "request_id": "c757e291",
                "response": {"behavior": "allow", "updatedInput": {"command": "touch other.txt"}},
            },
        }
    ]
    protocol.receive(message({**CAN_USE_TOOL, "request_id": "r2"}))
    assert protocol.deny("r2", "User denied", interrupt=True)
    [reply] = sent(protocol)
    assert reply["response"]["response"] == {
        "behavior": "deny",
        "message": "User denied",
        "interrupt": True,
    }


def test_each_request_is_answered_once() -> None:
    protocol = ControlProtocol()
    protocol.receive(message(CAN_USE_TOOL))
    assert protocol.deny("c757e291", "no")
    assert not protocol.allow("c757e291", {})
    assert len(protocol.data_to_send()) == 1


def test_cancelled_request_is_not_answered() -> None:
    protocol = ControlProtocol()
    protocol.receive(message(CAN_USE_TOOL))
    event = protocol.receive(message({"type": "control_cancel_request", "request_id": "c757e291"}))
    assert event == RequestCancelled("c757e291")
    assert not protocol.allow("c757e291", {})
    assert not protocol.respond_error("c757e291", "late")
    assert protocol.data_to_send() == []


@pytest.mark.parametrize("subtype", ["something_new", "elicitation"])
def test_unsupported_inbound_requests_get_an_error_reply(subtype: str) -> None:
    protocol = ControlProtocol()
    event = protocol.receive(
        message({"type": "control_request", "request_id": "x1", "request": {"subtype": subtype}})
    )
    assert event == UnsupportedRequest("x1", subtype)
    assert sent(protocol) == [
        {
            "type": "control_response",
            "response": {
                "subtype": "error",
                "request_id": "x1",
                "error": f"Unsupported control request subtype: {subtype}",
            },
        }
    ]
    assert protocol.pending_inbound == {}


def test_mcp_messages_and_hook_callbacks_wait_for_an_answer() -> None:
    protocol = ControlProtocol()
    mcp = {"subtype": "mcp_message", "server_name": "switchboard", "message": {"id": 1}}
    hook = {"subtype": "hook_callback", "callback_id": "hook_0", "input": {"tool_name": "Bash"}}
    first = protocol.receive(
        message({"type": "control_request", "request_id": "m1", "request": mcp})
    )
    second = protocol.receive(
        message({"type": "control_request", "request_id": "h1", "request": hook})
    )
    assert first == McpMessage("m1", "switchboard", {"id": 1})
    assert second == HookCallback("h1", "hook_0", {"tool_name": "Bash"})
    assert protocol.pending_inbound == {"m1": "mcp_message", "h1": "hook_callback"}
    assert sent(protocol) == [], "nothing is answered for them"
    odd = {"subtype": "mcp_message", "server_name": 7, "message": "text"}
    assert protocol.receive(
        message({"type": "control_request", "request_id": "m2", "request": odd})
    ) == McpMessage("m2", "", {})


@pytest.mark.parametrize("build", ["npm", "bundled"])
def test_golden_can_use_tool_from_the_real_cli(build: str) -> None:
    lines = (GOLDEN / f"{build}_control.jsonl").read_text().splitlines()
    decoded = [decode_line(line.encode()) for line in lines]
    requests = [m for m in decoded if isinstance(m, CliMessage) and m.type == "control_request"]
    event = ControlProtocol().receive(requests[0])
    assert isinstance(event, PermissionRequest)
    assert event.tool_name == "Bash"
    assert event.input["command"] == "touch created.txt"
    assert event.tool_use_id is not None and event.tool_use_id.startswith("toolu_")


@pytest.mark.parametrize("build", ["npm", "bundled"])
def test_golden_control_answers_from_the_real_cli(build: str) -> None:
    """The recorded session sent initialize, bogus_thing and set_permission_mode in order."""
    lines = (GOLDEN / f"{build}_control.jsonl").read_text().splitlines()
    answers = [decode_line(s.encode()) for s in lines[:3]]
    protocol = ControlProtocol()
    # Re-create our side of the exchange under the ids the CLI answered.
    for subtype, reply in zip(
        ["initialize", "bogus_thing", "set_permission_mode"], answers, strict=True
    ):
        assert isinstance(reply, CliMessage)
        protocol._ours[reply.data["response"]["request_id"]] = subtype
    events = [protocol.receive(a) for a in answers if isinstance(a, CliMessage)]
    assert [e.ok for e in events if isinstance(e, ControlResult)] == [True, False, True]
    init = events[0]
    assert isinstance(init, ControlResult) and "commands" in init.response
    mode = events[2]
    assert isinstance(mode, ControlResult) and mode.response == {"mode": "default"}
