"""Host, Origin and token checks for every request (guide §7).

* ``Host`` must name the bind address, a loopback name, or a configured name: this
  defeats DNS rebinding, where a hostile name resolves to 127.0.0.1.
* A WebSocket ``Origin`` must be same-origin or configured: this defeats cross-site
  WebSocket hijacking, since browsers send cookies-less but Origin-ful upgrades.
  Clients that send no Origin (scripts, CLIs) are not browsers and pass this check.
* The token is taken from ``?token=``, ``Authorization: Bearer``, or (WebSocket
  upgrades only) a subprotocol ``bearer.TOKEN``, offered next to ``switchboard``, which
  the server chooses (browsers cannot set headers on a WebSocket, and a URL is what
  proxies and devtools keep). The server's token
  may do everything but open ``/ws/agent``; a role token (viewer, operator, admin) opens
  what the server token opens, but only an admin's ``/ws/claude``, and the requests it may
  send are checked by role (:mod:`.roles`); a ``produce`` token opens only ``/ws``,
  where the endpoint limits it further, an ``agent`` token only ``/ws/agent``, and the
  metrics token (``--metrics-token``) only ``/metrics``. The :class:`Grant` travels in
  the ASGI scope.

Refusals happen before the request reaches any endpoint, so nothing is spawned. A
request that passes with a token is reported to ``on_token`` (the connection caps put
connections that never present one first in line to be closed).
"""

import hmac
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard.exceptions import ConfigError
from switchboard.protocol.people import Role

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
PAGE_PATHS = frozenset({"/", "/api/token/check", "/sw.js"})
APP_PROTOCOL = "switchboard"
"""The WebSocket subprotocol the server accepts, so a client may offer its token as a
second one (``bearer.TOKEN``) without it ever being chosen and echoed back."""
TOKEN_PROTOCOL_PREFIX = "bearer."  # noqa: S105 (a prefix, not a secret)
PAGE_PREFIXES = ("/assets/",)
"""The web UI's files and its token check: no token needed (the page holds no secret and
asks for the token itself), but the Host check applies."""
METRICS_PATH = "/metrics"
SCOPED_PATHS = {
    "produce": frozenset({"/ws"}),
    "agent": frozenset({"/ws/agent"}),
    "metrics": frozenset({METRICS_PATH}),
}
"""The only paths each scope of token opens (the server token opens all but /ws/agent)."""
AGENT_PATH = "/ws/agent"
RUNNING_PATHS = frozenset({"/ws/claude"})
"""Paths that run the CLI as soon as they open, past the hub (no queue, no budget, no
audit list): only an admin's token opens them."""
GRANT_KEY = "switchboard.grant"
"""Where the middleware leaves the request's :class:`Grant` in the ASGI scope."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What the request's token may do."""

    scope: Literal["full", "produce", "agent", "metrics"]
    name: str
    """Who it is, as skill events record it: "server token", or the token's name."""
    token_id: str | None = None
    projects: tuple[str, ...] | None = None
    """produce: the project ids it may publish to; None: every project."""
    role: Role = "admin"
    """scope full: what the person may do (the server's own token is an admin)."""

    def covers(self, project_id: str) -> bool:
        return self.projects is None or project_id in self.projects


FULL = Grant("full", "server token")
METRICS = Grant("metrics", "metrics token")
ScopedLookup = Callable[[str], Grant | None]
"""Find the grant of a scoped token's secret (None: not a scoped token)."""


def split_host(value: str) -> tuple[str, int | None]:
    """``"[::1]:80"`` → ``("::1", 80)``; ``"Example.org"`` → ``("example.org", None)``."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    else:
        host, port_text = value, ""
    try:
        port = int(port_text) if port_text else None
    except ValueError:
        port = -1
    return host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str


class SecurityPolicy:
    """The checks, as pure functions of header values."""

    def __init__(
        self,
        token: str,
        bind_host: str,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        scoped: ScopedLookup | None = None,
        *,
        metrics_token: str | None = None,
    ) -> None:
        if not token.strip():
            raise ConfigError("the API token must not be empty")
        if metrics_token is not None and not metrics_token.strip():
            raise ConfigError("the metrics token must not be empty")
        self._token = token.encode()
        self._metrics_token = metrics_token.encode() if metrics_token is not None else None
        self._scoped = scoped
        hosts = {h.lower() for h in allowed_hosts}
        self._any_host = "*" in hosts
        self._any_ip = bind_host in WILDCARD_BINDS
        self._hosts = hosts | LOOPBACK_NAMES | {bind_host.lower()}
        origins = {o.lower().rstrip("/") for o in allowed_origins}
        self._any_origin = "*" in origins
        self._origins = origins

    def host_ok(self, host_header: str | None) -> bool:
        if self._any_host:
            return True
        if not host_header:
            return False
        host, port = split_host(host_header)
        if port == -1:
            return False
        return host in self._hosts or (self._any_ip and _is_ip(host))

    def origin_ok(self, origin: str | None, host_header: str | None) -> bool:
        if origin is None:
            return True
        normalized = origin.lower().rstrip("/")
        if self._any_origin or normalized in self._origins:
            return True
        parts = urlsplit(normalized)
        if parts.scheme not in {"http", "https"} or not parts.netloc or not host_header:
            return False
        default = 443 if parts.scheme == "https" else 80
        origin_host, origin_port = split_host(parts.netloc)
        req_host, req_port = split_host(host_header)
        return (origin_host, origin_port or default) == (req_host, req_port or default)

    def token_ok(
        self, query_string: bytes, authorization: str | None, protocols: str | None = None
    ) -> bool:
        return self.grant(query_string, authorization, protocols) is FULL

    def grant(
        self, query_string: bytes, authorization: str | None, protocols: str | None = None
    ) -> Grant | None:
        """What the presented token may do, or None when no token is valid
        (``protocols``: the ``Sec-WebSocket-Protocol`` header)."""
        candidates = parse_qs(query_string.decode("latin-1")).get("token", [])
        if authorization and authorization[:7].lower() == "bearer ":
            candidates.append(authorization[7:].strip(" \t"))  # HTTP whitespace only
        for entry in (protocols or "").split(","):
            offered = entry.strip(" \t")
            if offered.startswith(TOKEN_PROTOCOL_PREFIX):
                candidates.append(offered[len(TOKEN_PROTOCOL_PREFIX) :])
        if any(c and hmac.compare_digest(c.encode(), self._token) for c in candidates):
            return FULL
        metrics = self._metrics_token
        if metrics is not None and any(
            c and hmac.compare_digest(c.encode(), metrics) for c in candidates
        ):
            return METRICS
        if self._scoped is not None:
            for candidate in candidates:
                found = self._scoped(candidate) if candidate else None
                if found is not None:
                    return found
        return None

    def check(self, scope: Scope) -> Refusal | Grant | None:
        """The first failed check for this request, or the token's grant when it may
        proceed (None for the paths that need no token)."""
        if scope.get("path") in EXEMPT_PATHS:
            return None
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        if not self.host_ok(host):
            return Refusal(400, f"Host {host!r} is not allowed (see --allowed-host)")
        if scope["type"] == "websocket" and not self.origin_ok(headers.get("origin"), host):
            return Refusal(
                403, f"Origin {headers.get('origin')!r} is not allowed (see --allowed-origin)"
            )
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and (path in PAGE_PATHS or path.startswith(PAGE_PREFIXES)):
            return None
        grant = self.grant(
            scope.get("query_string", b""),
            headers.get("authorization"),
            headers.get("sec-websocket-protocol") if scope["type"] == "websocket" else None,
        )
        if grant is None:
            return Refusal(
                401,
                "missing or wrong token (use ?token=, Authorization: Bearer, "
                "or the WebSocket subprotocol bearer.TOKEN)",
            )
        if grant.scope == "full" and path == AGENT_PATH:
            return Refusal(403, "only an agent token opens /ws/agent (switchboard token create)")
        if grant.scope == "full" and grant.role != "admin" and path in RUNNING_PATHS:
            return Refusal(
                403,
                f"only an admin's token opens {path}: it runs Claude Code outside the "
                "hub's queue, budgets and audit list (use /ws)",
            )
        opens = SCOPED_PATHS.get(grant.scope)
        if opens is not None and path not in opens:
            return Refusal(403, f"a token with scope {grant.scope!r} opens only {min(opens)}")
        return grant


def app_protocol(scope: Scope) -> str | None:
    """The subprotocol to accept: ``switchboard`` when the client offered it (a browser
    that offers subprotocols fails the handshake unless one is chosen)."""
    return APP_PROTOCOL if APP_PROTOCOL in (scope.get("subprotocols") or []) else None


class SecurityMiddleware:
    """ASGI middleware applying :class:`SecurityPolicy` before anything else runs."""

    def __init__(
        self,
        app: ASGIApp,
        policy: SecurityPolicy,
        on_token: Callable[[Scope], None] | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.on_token = on_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        refusal = self.policy.check(scope)
        if not isinstance(refusal, Refusal):
            scope[GRANT_KEY] = refusal
            if refusal is not None and self.on_token is not None:
                self.on_token(scope)
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await _http_refusal(send, refusal, "http.response")
        else:
            await _websocket_refusal(scope, receive, send, refusal)


def _refusal_headers(refusal: Refusal, body: bytes) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="switchboard"'))
    return headers


REFUSAL_CODES = {400: "host_not_allowed", 401: "unauthorized", 403: "forbidden"}
"""The ``code`` of a refusal's body, by its status (the HTTP API's error shape)."""


async def _http_refusal(send: Send, refusal: Refusal, prefix: str) -> None:
    """The refusal as JSON: the HTTP API's ``type``, ``code`` and ``message``, and the
    message again as ``error`` (what it was before there was an HTTP API)."""
    code = REFUSAL_CODES.get(refusal.status, "forbidden")
    fields = {"type": "error", "code": code, "message": refusal.message}
    body = json.dumps({**fields, "error": refusal.message}).encode()
    start: dict[str, Any] = {
        "type": f"{prefix}.start",
        "status": refusal.status,
        "headers": _refusal_headers(refusal, body),
    }
    await send(start)
    await send({"type": f"{prefix}.body", "body": body})


async def _websocket_refusal(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    """Refuse the upgrade with an HTTP status (no WebSocket is ever opened)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        await _http_refusal(send, refusal, "websocket.http.response")
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})
