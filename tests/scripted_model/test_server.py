import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from switchboard.scripted_model import Script, ScriptedModelServer

TOOLS = [{"name": "Bash", "input_schema": {"type": "object"}}]


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    script = Script.of(
        {"text": "Hello there, this is a longer streamed answer.", "thinking": "Hmm."},
        {"tool_use": {"name": "Bash", "input": {"command": "echo hi"}}},
        {"error": {"status": 400, "message": "nope"}},
    )
    with ScriptedModelServer(script) as server:
        yield server


def sse_events(body: str) -> list[dict[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        name_line, data_line = block.split("\n")
        event = json.loads(data_line.removeprefix("data: "))
        assert name_line == f"event: {event['type']}"
        events.append(event)
    return events


def post(
    model: ScriptedModelServer, body: dict[str, Any], path: str = "/v1/messages"
) -> httpx.Response:
    return httpx.post(model.url + path, json=body, timeout=10)


def conversation(stream: bool = True) -> dict[str, Any]:
    return {
        "model": "m1",
        "stream": stream,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_streamed_turn_is_a_complete_sse_message(model: ScriptedModelServer) -> None:
    response = post(model, conversation())
    assert response.headers["content-type"] == "text/event-stream"
    events = sse_events(response.text)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert events[0]["message"]["model"] == "m1"
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == "Hello there, this is a longer streamed answer."
    text_deltas = [e for e in events if e.get("delta", {}).get("type") == "text_delta"]
    assert len(text_deltas) > 1  # really streamed in pieces
    starts = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert starts == ["thinking", "text"]
    assert events[-2]["delta"]["stop_reason"] == "end_turn"


def test_tool_use_turn_streams_its_input_as_json(model: ScriptedModelServer) -> None:
    post(model, conversation())
    events = sse_events(post(model, conversation()).text)
    start = next(e for e in events if e["type"] == "content_block_start")
    assert start["content_block"]["name"] == "Bash"
    assert start["content_block"]["id"].startswith("toolu_")
    partial = next(e for e in events if e["type"] == "content_block_delta")["delta"]
    assert json.loads(partial["partial_json"]) == {"command": "echo hi"}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_error_turn_uses_the_api_error_shape(model: ScriptedModelServer) -> None:
    post(model, conversation())
    post(model, conversation())
    response = post(model, conversation())
    assert response.status_code == 400
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "nope"},
    }


def test_exhausted_script_is_a_clear_non_retryable_error(model: ScriptedModelServer) -> None:
    for _ in range(3):
        post(model, conversation())
    response = post(model, conversation())
    assert response.status_code == 400
    assert "no turns left" in response.json()["error"]["message"]
    assert response.headers["x-should-retry"] == "false"


def test_a_retryable_error_lets_the_cli_retry() -> None:
    error = {"status": 529, "type": "overloaded_error", "message": "busy", "retryable": True}
    with ScriptedModelServer(Script.of({"error": error}, {"text": "ok"})) as model:
        response = post(model, conversation())
        assert response.status_code == 529
        assert response.headers["x-should-retry"] == "true"
        assert post(model, conversation()).status_code == 200


def test_a_repeated_turn_answers_several_requests() -> None:
    script = Script.of({"error": {"status": 400}, "repeat": 3}, {"text": "after"})
    with ScriptedModelServer(script) as model:
        statuses = [post(model, conversation(stream=False)).status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 200]


def reply_text(model: ScriptedModelServer) -> str:
    response = post(model, conversation(stream=False))
    assert response.status_code == 200, response.text
    return str(response.json()["content"][0]["text"])


def test_a_looping_script_starts_over_after_its_last_turn() -> None:
    turns = [{"text": "one"}, {"text": "two", "repeat": 2}]
    with ScriptedModelServer(Script.model_validate({"turns": turns, "loop": True})) as model:
        first = [reply_text(model) for _ in range(3)]
        post(model, {"messages": [{"role": "user", "content": "a title?"}]})  # takes no turn
        again = [reply_text(model) for _ in range(4)]
    assert first == ["one", "two", "two"]
    assert again == ["one", "two", "two", "one"]


def test_a_looping_script_without_turns_still_says_it_has_none() -> None:
    with ScriptedModelServer(Script(loop=True)) as model:
        response = post(model, conversation())
    assert response.status_code == 400 and "no turns left" in response.json()["error"]["message"]


def test_non_streamed_turn(model: ScriptedModelServer) -> None:
    body = post(model, conversation(stream=False)).json()
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]
    assert body["stop_reason"] == "end_turn"


def test_waiting_for_requests(model: ScriptedModelServer) -> None:
    assert not model.wait_for_requests(1, timeout=0.05)
    threading.Timer(0.1, post, (model, conversation())).start()
    assert model.wait_for_requests(1, timeout=10)
    assert model.wait_for_requests(1, timeout=0, conversation=False)


def test_side_requests_do_not_consume_turns(model: ScriptedModelServer) -> None:
    side = post(model, {"model": "haiku", "messages": [{"role": "user", "content": "title?"}]})
    assert side.json()["content"] == [{"type": "text", "text": "OK"}]
    assert model.turns_served == 0
    assert [r.conversation for r in model.requests] == [False]


def test_count_tokens_and_other_paths_are_harmless(model: ScriptedModelServer) -> None:
    assert post(model, conversation(), "/v1/messages/count_tokens").json()["input_tokens"] > 0
    assert post(model, {}, "/api/event_logging/batch").json() == {}
    assert httpx.get(model.url + "/v1/models", timeout=5).json() == {}
    assert model.turns_served == 0


def test_requests_are_recorded_and_served_over_http(model: ScriptedModelServer) -> None:
    post(model, conversation())
    [recorded] = model.requests
    assert recorded.path == "/v1/messages"
    assert recorded.messages == [{"role": "user", "content": "hi"}]
    assert "hi" in recorded.text()
    log = httpx.get(model.url + "/_scripted/requests", timeout=5).json()
    assert log[0]["body"]["messages"] == [{"role": "user", "content": "hi"}]


def test_script_can_be_replaced_over_http(model: ScriptedModelServer) -> None:
    post(model, conversation())
    response = httpx.put(
        model.url + "/_scripted/script", json={"turns": [{"text": "new"}]}, timeout=5
    )
    assert response.json() == {"turns": 1}
    assert post(model, conversation(stream=False)).json()["content"][0]["text"] == "new"
    bad = httpx.put(model.url + "/_scripted/script", json={"turns": [{}]}, timeout=5)
    assert bad.status_code == 400


class HeldRequest:
    """A conversation request posted from a thread, checked to be recorded but not yet
    answered; ``answer()`` waits for its reply once the gate opens."""

    def __init__(self, model: ScriptedModelServer, requests_before: int) -> None:
        self.replies: list[str] = []
        self.thread = threading.Thread(
            target=lambda: self.replies.append(post(model, conversation(stream=False)).text)
        )
        self.thread.start()
        assert model.wait_for_requests(requests_before + 1, timeout=10)
        self.thread.join(timeout=0.3)
        assert self.thread.is_alive() and self.replies == []

    def answer(self) -> str:
        self.thread.join(timeout=10)
        [reply] = self.replies
        return reply


def test_a_held_turn_waits_for_its_gate() -> None:
    script = Script.of({"text": "held", "hold": "go"}, {"text": "free", "hold": "go"})
    with ScriptedModelServer(script) as model:
        held = HeldRequest(model, 0)
        assert httpx.post(model.url + "/_scripted/release/go", timeout=5).json() == {}
        assert "held" in held.answer()
        # A released gate stays open for later turns...
        assert "free" in post(model, conversation(stream=False)).text
        # ...until a new script closes every gate again.
        model.set_script(Script.of({"text": "again", "hold": "go"}))
        held = HeldRequest(model, 2)
        model.release("go")
        assert "again" in held.answer()


@pytest.mark.parametrize("turn", [{"delay": 60}, {"hold": "never"}], ids=["delayed", "held"])
def test_stop_interrupts_a_waiting_turn(turn: dict[str, Any]) -> None:
    server = ScriptedModelServer(Script.of({"text": "late", **turn})).start()

    def stop_once_asked() -> None:
        assert server.wait_for_requests(1, timeout=10)
        server.stop()

    stopper = threading.Thread(target=stop_once_asked)
    stopper.start()
    with pytest.raises(httpx.RemoteProtocolError):  # dropped unanswered, not timed out
        post(server, conversation())
    stopper.join()
