"""Which push endpoints the server will POST to, and whether a subscription's keys are
real keys.

An endpoint is a URL a client hands the server, which the server then calls: without a
policy it would make the server send requests wherever a client likes. By default an
endpoint must be ``https`` on a host name (no IP address, no ``localhost``, no user
name or password in the URL), which is what the browsers' push services hand out.
``--push-allow-http`` lifts those rules for a push service on this machine or in a
test; the size of the URL and the keys is bounded either way.
"""

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from switchboard.hub.registry import HubError
from switchboard.protocol.push import PushSubscriptionInfo


def _refused(message: str) -> HubError:
    """A push subscription the server will not use."""
    return HubError("endpoint_not_allowed", message)


def b64url_decode(text: str) -> bytes:
    """base64url, with or without its ``=`` padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_subscription(subscription: PushSubscriptionInfo, allow_http: bool) -> None:
    """Refuse it (``endpoint_not_allowed``) unless the endpoint may be called and the
    keys are a P-256 public key and a 16-byte secret."""
    check_endpoint(subscription.endpoint, allow_http)
    try:
        public = b64url_decode(subscription.keys.p256dh)
        secret = b64url_decode(subscription.keys.auth)
    except (binascii.Error, ValueError):
        raise _refused("keys.p256dh and keys.auth must be base64url") from None
    if len(secret) != 16:
        raise _refused(f"keys.auth must be 16 bytes, not {len(secret)}")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except ValueError:
        raise _refused("keys.p256dh is not an uncompressed P-256 public key") from None
    if len(public) != 65:
        raise _refused("keys.p256dh must be an uncompressed point (65 bytes)")


def check_endpoint(endpoint: str, allow_http: bool) -> None:
    """Refuse it (``endpoint_not_allowed``) unless the server may POST to ``endpoint``."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise _refused(f"the endpoint is not a URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise _refused("the endpoint must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise _refused("the endpoint may not hold a user name or password")
    if parts.fragment:
        raise _refused("the endpoint may not have a #fragment")
    if allow_http:
        return
    if parts.scheme != "https":
        raise _refused(
            "the endpoint must be https (a server started with --push-allow-http takes http)"
        )
    if _is_address(host) or host == "localhost" or host.endswith(".localhost"):
        raise _refused(
            "the endpoint must name its host, not an address or localhost (a server "
            "started with --push-allow-http takes those)"
        )


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
