"""Host, Origin and token checks for every request (guide §7).

* ``Host`` must name the bind address, a loopback name, or a configured name: this
  defeats DNS rebinding, where a hostile name resolves to 127.0.0.1.
* A WebSocket ``Origin`` must be same-origin or configured: this defeats cross-site
  WebSocket hijacking, since browsers send cookies-less but Origin-ful upgrades.
  Clients that send no Origin (scripts, CLIs) are not browsers and pass this check.
* The token is taken from ``?token=`` or ``Authorization: Bearer``.

Refusals happen before the request reaches any endpoint, so nothing is spawned.
"""

import hmac
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard.exceptions import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 (recognised, not bound)
EXEMPT_PATHS = frozenset({"/healthz"})


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
    ) -> None:
        if not token.strip():
            raise ConfigError("the API token must not be empty")
        self._token = token.encode()
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

    def token_ok(self, query_string: bytes, authorization: str | None) -> bool:
        candidates = parse_qs(query_string.decode("latin-1")).get("token", [])
        if authorization and authorization[:7].lower() == "bearer ":
            candidates.append(authorization[7:].strip(" \t"))  # HTTP whitespace only
        return any(c and hmac.compare_digest(c.encode(), self._token) for c in candidates)

    def check(self, scope: Scope) -> Refusal | None:
        """The first failed check for this request, or None when it may proceed."""
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
        if not self.token_ok(scope.get("query_string", b""), headers.get("authorization")):
            return Refusal(401, "missing or wrong token (use ?token= or Authorization: Bearer)")
        return None


class SecurityMiddleware:
    """ASGI middleware applying :class:`SecurityPolicy` before anything else runs."""

    def __init__(self, app: ASGIApp, policy: SecurityPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        refusal = self.policy.check(scope)
        if refusal is None:
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


async def _http_refusal(send: Send, refusal: Refusal, prefix: str) -> None:
    body = json.dumps({"error": refusal.message}).encode()
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
