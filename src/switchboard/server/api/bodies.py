"""From an HTTP request to the ``/ws`` request it stands for.

The body (a JSON object of at most ``--max-message-bytes``), the path's parameters and
some of the query's are put together with the request's ``type`` into one message,
which goes through :func:`~switchboard.protocol.messages.parse_client_message`: the
very checks a ``/ws`` frame gets, with the same words for what is wrong.
"""

import json
import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from switchboard.protocol.json_text import MAX_NESTING, loads
from switchboard.protocol.messages import ClientMessage, Error, parse_client_message
from switchboard.server.api.errors import ApiRefusal

JSON_MEDIA = re.compile(r"application/(?:[\w.+-]+\+)?json", re.ASCII)
"""``application/json`` and its ``+json`` kin."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body; ``too_large`` once it passes ``limit`` bytes (read no more)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ApiRefusal("too_large", f"the body is over {limit} bytes (--max-message-bytes)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiRefusal("too_large", f"the body is over {limit} bytes (--max-message-bytes)")
    return bytes(body)


def json_object(request: Request, body: bytes) -> dict[str, Any]:
    """The body as a JSON object (an empty body: an empty object)."""
    if not body.strip():
        return {}
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not JSON_MEDIA.fullmatch(media):
        raise ApiRefusal(
            "unsupported_media_type",
            f"send the body as application/json (Content-Type was {media or 'missing'!r})",
        )
    try:
        raw = loads(body)
    except RecursionError:
        raise ApiRefusal("bad_message", f"nested more than {MAX_NESTING} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRefusal("bad_json", f"the body is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ApiRefusal("bad_message", "the body is a JSON object")
    return raw


def only_fields(given: dict[str, Any], allowed: Iterable[str]) -> None:
    """Refuse a body with fields the endpoint does not take from it (the request's
    ``type``, and what the path names, come from the endpoint)."""
    allowed = tuple(allowed)
    for name in given:
        if name not in allowed:
            takes = ", ".join(allowed) or "no fields"
            raise ApiRefusal("bad_message", f"{name}: not a field of this body (it takes {takes})")


def build(kind: str, fields: dict[str, Any]) -> ClientMessage:
    """The ``/ws`` request of type ``kind`` with ``fields``, checked as ``/ws`` checks
    a frame."""
    text = json.dumps({**fields, "type": kind})
    parsed = parse_client_message(text)
    if isinstance(parsed, Error):
        raise ApiRefusal(parsed.code, parsed.message)
    return parsed
