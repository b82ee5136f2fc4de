"""The scripted model's HTTP server: a thin threaded shell around :mod:`payloads`.

Endpoints:

* ``POST /v1/messages``: the next turn of the script (SSE when ``"stream": true``);
  requests that offer no tools are side requests and get ``Script.side_reply``.
* ``POST /v1/messages/count_tokens``: an estimate.
* ``GET /_scripted/requests``: every request recorded so far (JSON list).
* ``PUT /_scripted/script``: replace the script (and reset its position).
* anything else: ``200 {}``, so that incidental CLI calls are harmless.
"""

import json
import threading
import time
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from pydantic import ValidationError

from switchboard.scripted_model import payloads
from switchboard.scripted_model.script import EXHAUSTED, Script, Turn

MAX_BODY_BYTES = 64 * 1024 * 1024
RELEASE_PATH = "/_scripted/release/"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One HTTP request the CLI made."""

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    time: float
    conversation: bool
    """True when the request took a turn of the script."""

    @property
    def messages(self) -> list[dict[str, Any]]:
        value = self.body.get("messages")
        return value if isinstance(value, list) else []

    def text(self) -> str:
        """All text the request carried (messages and system prompt), for assertions."""
        return json.dumps({"system": self.body.get("system"), "messages": self.messages})


class _State:
    """Script position and request log, shared by the handler threads."""

    def __init__(self, script: Script) -> None:
        self.lock = threading.Lock()
        self.recorded = threading.Condition(self.lock)
        self.script = script
        self.position = 0
        self.served_current = 0  # times the turn at ``position`` has been served
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self.released: set[str] = set()
        self.gates = threading.Condition(self.lock)

    def release(self, gate: str) -> None:
        with self.gates:
            self.released.add(gate)
            self.gates.notify_all()

    def wait_for_gate(self, gate: str) -> bool:
        """Wait until ``gate`` is released; False if the server stops first."""
        with self.gates:
            self.gates.wait_for(lambda: gate in self.released or self.stopping.is_set())
            return not self.stopping.is_set()

    def restart(self, script: Script) -> None:
        with self.lock:
            self.script = script
            self.position = 0
            self.served_current = 0
            self.released.clear()

    def next_turn(self) -> Turn:
        with self.lock:
            if self.position >= len(self.script.turns):
                if not (self.script.loop and self.script.turns):
                    return EXHAUSTED
                self.position = 0
            turn = self.script.turns[self.position]
            self.served_current += 1
            if self.served_current >= turn.repeat:
                self.position += 1
                self.served_current = 0
            return turn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr logging."""

    # -- helpers ------------------------------------------------------------------------

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return {"_unparsed": raw[:1000].decode("utf-8", errors="replace")}
        return data if isinstance(data, dict) else {"_body": data}

    def _send_json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "req_scripted")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: dict[str, Any], conversation: bool) -> None:
        wanted = ("anthropic-version", "anthropic-beta", "user-agent", "x-app")
        headers = {k: v for k, v in self.headers.items() if k.lower() in wanted}
        entry = RecordedRequest(self.command, self.path, body, headers, time.time(), conversation)
        with self.server.state.lock:
            self.server.state.requests.append(entry)
            self.server.state.recorded.notify_all()

    def _pause(self, seconds: float) -> bool:
        """Wait, unless the server stops first. Returns False when it is stopping."""
        return not self.server.state.stopping.wait(seconds) if seconds > 0 else True

    # -- verbs --------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path.startswith("/_scripted/requests"):
            with self.server.state.lock:
                log = [asdict(r) for r in self.server.state.requests]
            self._send_json(HTTPStatus.OK, log)
        else:
            self._send_json(HTTPStatus.OK, {})

    def do_HEAD(self) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        body = self._read_body()
        if not self.path.startswith("/_scripted/script"):
            self._send_json(HTTPStatus.OK, {})
            return
        try:
            script = Script.model_validate(body)
        except ValidationError as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.server.state.restart(script)
        self._send_json(HTTPStatus.OK, {"turns": len(script.turns)})

    def do_POST(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self._send_json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "too large"})
            return
        path = self.path.split("?", 1)[0]
        if path.startswith(RELEASE_PATH):
            self.server.state.release(path.removeprefix(RELEASE_PATH))
            self._send_json(HTTPStatus.OK, {})
        elif path.endswith("/v1/messages/count_tokens"):
            self._record(body, conversation=False)
            self._send_json(HTTPStatus.OK, {"input_tokens": payloads.estimate_tokens(body)})
        elif path.endswith("/v1/messages"):
            self._messages(body)
        else:
            self._record(body, conversation=False)
            self._send_json(HTTPStatus.OK, {})

    def _messages(self, body: dict[str, Any]) -> None:
        state = self.server.state
        conversation = bool(body.get("tools"))
        self._record(body, conversation)
        turn = (
            state.next_turn()
            if conversation
            else Turn.model_validate({"text": state.script.side_reply})
        )
        waited = self._pause(turn.delay) and (turn.hold is None or state.wait_for_gate(turn.hold))
        if not waited:
            self.close_connection = True  # stopping: drop the connection unanswered
            return
        model = str(body.get("model") or state.script.model)
        tokens = payloads.estimate_tokens(body)
        if turn.error is not None:
            retry = {"x-should-retry": "true" if turn.error.retryable else "false"}
            self._send_json(turn.error.status, payloads.error_body(turn.error), retry)
        elif body.get("stream"):
            self._stream(turn, model, tokens)
        else:
            self._send_json(HTTPStatus.OK, payloads.complete_message(turn, model, tokens))

    def _stream(self, turn: Turn, model: str, tokens: int) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("request-id", "req_scripted")
        self.end_headers()
        self.close_connection = True
        for event in payloads.stream_events(turn, model, tokens):
            self.wfile.write(payloads.sse_frame(event))
            self.wfile.flush()
            if not self._pause(turn.chunk_delay):
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        self.state = state
        super().__init__(address, _Handler)


class ScriptedModelServer:
    """Runs the scripted model on a background thread.

    >>> with ScriptedModelServer(Script.of({"text": "hi"})) as model:
    ...     env = {"ANTHROPIC_BASE_URL": model.url}
    """

    def __init__(self, script: Script | None = None, host: str = "127.0.0.1", port: int = 0):
        self._state = _State(script or Script())
        self._server = _Server((host, port), self._state)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    @property
    def conversation_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.conversation]

    @property
    def turns_served(self) -> int:
        with self._state.lock:
            return self._state.position

    def wait_for_requests(self, count: int, timeout: float, conversation: bool = True) -> bool:
        """Block until ``count`` (conversation) requests were recorded; False on timeout.

        From async code: ``await asyncio.to_thread(model.wait_for_requests, 1, 30)``.
        """
        state = self._state

        def enough() -> bool:
            return sum(1 for r in state.requests if r.conversation or not conversation) >= count

        with state.recorded:
            return state.recorded.wait_for(enough, timeout)

    def set_script(self, script: Script) -> None:
        """Replace the script and start again from its first turn (gates closed)."""
        self._state.restart(script)

    def release(self, gate: str) -> None:
        """Let the replies held at ``gate`` (now or later) go on."""
        self._state.release(gate)

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="scripted-model", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until :meth:`stop` is called from another one."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._state.stopping.set()
        with self._state.gates:
            self._state.gates.notify_all()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
