"""The CLI's control protocol as a pure state machine (no I/O).

Both directions share stdin/stdout with the ordinary stream-json messages:

* host → CLI requests (``initialize``, ``interrupt``, ``set_permission_mode``,
  ``set_model``) get a ``control_response`` carrying the same ``request_id``;
* CLI → host requests (``can_use_tool``, ``hook_callback`` for the hooks registered
  with ``initialize``, ``mcp_message`` for the in-process MCP server) need a reply on
  stdin, unless the CLI withdraws them with ``control_cancel_request``; other subtypes
  are answered with an error.

Feed every decoded stdout message to :meth:`ControlProtocol.receive`; write whatever
:meth:`ControlProtocol.data_to_send` returns to the CLI's stdin.
"""

import itertools
import json
import os
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents.claude.stream_json import CliMessage
from switchboard.exceptions import ControlProtocolError

SUPPORTED_INBOUND = frozenset({"can_use_tool", "mcp_message", "hook_callback"})
PERMISSION_MODES = frozenset({"default", "acceptEdits", "plan", "bypassPermissions"})


@dataclass(frozen=True, slots=True)
class ControlResult:
    """The CLI answered one of our requests."""

    request_id: str
    subtype: str
    """Subtype of the request this answers (``interrupt``, ...)."""
    ok: bool
    response: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PermissionRequest:
    """``can_use_tool``: the CLI asks whether a tool call may run."""

    request_id: str
    tool_name: str
    input: dict[str, Any]
    tool_use_id: str | None
    suggestions: list[Any]
    request: dict[str, Any] = field(repr=False)
    """The complete request body, unchanged."""


@dataclass(frozen=True, slots=True)
class RequestCancelled:
    """The CLI withdrew a request it had sent; it must not be answered."""

    request_id: str


@dataclass(frozen=True, slots=True)
class UnsupportedRequest:
    """The CLI sent a request subtype Switchboard does not serve; it was answered with an error."""

    request_id: str
    subtype: str


@dataclass(frozen=True, slots=True)
class McpMessage:
    """``mcp_message``: a JSON-RPC message for one of the host's in-process MCP servers."""

    request_id: str
    server_name: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HookCallback:
    """``hook_callback``: a hook registered with ``initialize`` fired."""

    request_id: str
    callback_id: str
    input: dict[str, Any]


ControlEvent = (
    ControlResult
    | PermissionRequest
    | McpMessage
    | HookCallback
    | RequestCancelled
    | UnsupportedRequest
)


def _line(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode() + b"\n"


class ControlProtocol:
    """Tracks outstanding control requests in both directions."""

    def __init__(self) -> None:
        self._outbox: list[bytes] = []
        self._counter = itertools.count(1)
        self._ours: dict[str, str] = {}  # request_id -> subtype, awaiting the CLI
        self._theirs: dict[str, str] = {}  # request_id -> subtype, awaiting us

    # -- host → CLI ---------------------------------------------------------------------

    def send_request(self, subtype: str, **fields: Any) -> str:
        """Queue a request to the CLI and return its ``request_id``."""
        request_id = f"req_{next(self._counter)}_{os.urandom(4).hex()}"
        self._ours[request_id] = subtype
        request = {"subtype": subtype, **fields}
        self._outbox.append(
            _line({"type": "control_request", "request_id": request_id, "request": request})
        )
        return request_id

    def initialize(self, hooks: dict[str, Any] | None = None) -> str:
        return self.send_request("initialize", hooks=hooks)

    def interrupt(self) -> str:
        return self.send_request("interrupt")

    def set_permission_mode(self, mode: str) -> str:
        if mode not in PERMISSION_MODES:
            raise ControlProtocolError(f"unknown permission mode {mode!r}")
        return self.send_request("set_permission_mode", mode=mode)

    def set_model(self, model: str | None) -> str:
        return self.send_request("set_model", model=model)

    # -- CLI → host ---------------------------------------------------------------------

    def respond(self, request_id: str, response: dict[str, Any]) -> bool:
        """Answer a pending CLI request. Returns False if it is no longer pending."""
        if self._theirs.pop(request_id, None) is None:
            return False
        body = {"subtype": "success", "request_id": request_id, "response": response}
        self._outbox.append(_line({"type": "control_response", "response": body}))
        return True

    def respond_error(self, request_id: str, message: str) -> bool:
        """Answer a pending CLI request with an error. False if it is no longer pending."""
        if self._theirs.pop(request_id, None) is None:
            return False
        self._queue_error(request_id, message)
        return True

    def allow(self, request_id: str, updated_input: dict[str, Any]) -> bool:
        """Answer a ``can_use_tool`` with allow."""
        return self.respond(request_id, {"behavior": "allow", "updatedInput": updated_input})

    def deny(self, request_id: str, message: str, *, interrupt: bool = False) -> bool:
        """Answer a ``can_use_tool`` with deny."""
        response: dict[str, Any] = {"behavior": "deny", "message": message}
        if interrupt:
            response["interrupt"] = True
        return self.respond(request_id, response)

    @property
    def pending_inbound(self) -> dict[str, str]:
        """CLI requests still waiting for our answer (id → subtype)."""
        return dict(self._theirs)

    @property
    def pending_outbound(self) -> dict[str, str]:
        """Our requests still waiting for the CLI's answer (id → subtype)."""
        return dict(self._ours)

    # -- plumbing -----------------------------------------------------------------------

    def receive(self, message: CliMessage) -> ControlEvent | None:
        """Handle one stdout message. Returns ``None`` for non-control messages."""
        match message.type:
            case "control_response":
                return self._on_response(message.data)
            case "control_request":
                return self._on_request(message.data)
            case "control_cancel_request":
                request_id = str(message.data.get("request_id", ""))
                self._theirs.pop(request_id, None)
                return RequestCancelled(request_id)
            case _:
                return None

    def data_to_send(self) -> list[bytes]:
        """Lines to write to the CLI's stdin, in order. Clears the queue."""
        out, self._outbox = self._outbox, []
        return out

    def _queue_error(self, request_id: str, message: str) -> None:
        body = {"subtype": "error", "request_id": request_id, "error": message}
        self._outbox.append(_line({"type": "control_response", "response": body}))

    def _on_response(self, data: dict[str, Any]) -> ControlResult:
        body = data.get("response")
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
            raise ControlProtocolError("control_response without response.request_id")
        request_id: str = body["request_id"]
        subtype = self._ours.pop(request_id, None)
        if subtype is None:
            raise ControlProtocolError(f"control_response for unknown request {request_id!r}")
        if body.get("subtype") == "success":
            payload = body.get("response")
            response = payload if isinstance(payload, dict) else {}
            return ControlResult(request_id, subtype, True, response)
        error = body.get("error")
        return ControlResult(request_id, subtype, False, {}, str(error) if error else "error")

    def _on_request(self, data: dict[str, Any]) -> ControlEvent:
        request_id = data.get("request_id")
        request = data.get("request")
        if not isinstance(request_id, str) or not isinstance(request, dict):
            raise ControlProtocolError("control_request without request_id or request")
        subtype = str(request.get("subtype", ""))
        if subtype not in SUPPORTED_INBOUND:
            self._queue_error(request_id, f"Unsupported control request subtype: {subtype}")
            return UnsupportedRequest(request_id, subtype)
        self._theirs[request_id] = subtype
        if subtype == "mcp_message":
            return McpMessage(
                request_id, _text(request, "server_name"), _object(request, "message")
            )
        if subtype == "hook_callback":
            return HookCallback(
                request_id, _text(request, "callback_id"), _object(request, "input")
            )
        tool_input = request.get("input")
        suggestions = request.get("permission_suggestions")
        tool_use_id = request.get("tool_use_id")
        return PermissionRequest(
            request_id=request_id,
            tool_name=str(request.get("tool_name", "")),
            input=tool_input if isinstance(tool_input, dict) else {},
            tool_use_id=tool_use_id if isinstance(tool_use_id, str) else None,
            suggestions=suggestions if isinstance(suggestions, list) else [],
            request=request,
        )


def _text(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    return value if isinstance(value, str) else ""


def _object(request: dict[str, Any], name: str) -> dict[str, Any]:
    value = request.get(name)
    return value if isinstance(value, dict) else {}
