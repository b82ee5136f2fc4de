"""Stand-ins for the outside world of push notifications, run by the tests themselves:
a loopback HTTP receiver in place of a push service (or a webhook), and a "browser"
that holds the keys of its push subscription and reads what it is sent.

The browser side is done by hand with ``cryptography`` and ``http_ece``: it checks the
VAPID signature (RFC 8292) against the server's public key, and decrypts the aes128gcm
payload (RFC 8291) with its own private key and auth secret, as a browser would.
"""

import asyncio
import base64
import json
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import http_ece  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Received:
    """One POST the receiver took."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class PushReceiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers it with the
    status set for its path, query aside (201 unless told otherwise)."""

    statuses: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    """Seconds to wait before answering (a slow push service)."""
    _received: "queue.Queue[Received]" = field(default_factory=queue.Queue)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver._received.put(Received(self.path, headers, body, time.time()))
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.statuses.get(self.path.split("?")[0], 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def origin(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.origin + path

    async def next(self, timeout: float = 60.0) -> Received:
        """The next POST, waiting for it (off the event loop)."""
        return await asyncio.to_thread(self._received.get, timeout=timeout)

    def taken(self) -> list[Received]:
        """Every POST received and not yet taken by :meth:`next`."""
        found = []
        while True:
            try:
                found.append(self._received.get_nowait())
            except queue.Empty:
                return found


class Browser:
    """A push subscription's private side: its P-256 key pair and auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` would give for ``endpoint``."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }

    def decrypt(self, push: Received) -> dict[str, Any]:
        """The push's payload, decrypted (aes128gcm) and read as JSON."""
        assert push.headers.get("content-encoding") == "aes128gcm"
        plain = http_ece.decrypt(
            push.body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        payload: dict[str, Any] = json.loads(plain)
        return payload


def verify_vapid(push: Received, server_key: str) -> dict[str, Any]:
    """Check the push's ``Authorization: vapid t=JWT, k=KEY`` header: the key is the
    server's, and the JWT (ES256) is signed by it. Returns the JWT's claims."""
    scheme, _, params = push.headers["authorization"].partition(" ")
    assert scheme.lower() == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == server_key
    header_part, claims_part, signature_part = fields["t"].split(".")
    header = json.loads(unb64url(header_part))
    assert header["alg"] == "ES256"
    raw = unb64url(signature_part)
    assert len(raw) == 64
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    public.verify(  # raises InvalidSignature
        signature, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256())
    )
    claims: dict[str, Any] = json.loads(unb64url(claims_part))
    return claims
