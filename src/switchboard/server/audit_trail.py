"""What goes into the audit list: every prompt, answer and admin change that went
through, with the name of the token that sent it (``/ws`` and the HTTP API alike)."""

import json
import logging
from typing import Any

from switchboard.hub.hub import Hub
from switchboard.protocol.messages import Ack, ClientMessage
from switchboard.server.roles import REQUIRED_ROLE
from switchboard.server.security import Grant

log = logging.getLogger(__name__)

READS = frozenset({"token.list", "audit.list"})
"""Admin requests that change nothing (not audited)."""
RUNNING = frozenset({"prompt", "cancel", "confirmation_response", "session.new", "session.use"})
"""An operator's requests that are audited (timers and producer messages are not)."""
MAX_TEXT = 1000
"""A string in an entry's detail is cut to this many characters (a prompt, say)."""
MAX_ITEMS = 50
"""A list in an entry's detail keeps this many items (an object, this many fields)."""
MAX_DETAIL_BYTES = 8192
"""An entry's detail, encoded, is at most about this long: past it, the fields that
are long are left out (and named in ``omitted``)."""
SMALL_FIELD_BYTES = 200


def audited(request_type: str) -> bool:
    """Whether a request of this type goes into the audit list once it went through."""
    if request_type in RUNNING:
        return True
    return REQUIRED_ROLE.get(request_type, "admin") == "admin" and request_type not in READS


def shortened(value: Any) -> Any:
    """``value`` with long strings cut and long lists trimmed (an entry stays small)."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, list):
        return [shortened(item) for item in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {key: shortened(item) for key, item in list(value.items())[:MAX_ITEMS]}
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


def bounded(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` shortened; if it is still over :data:`MAX_DETAIL_BYTES`, only its
    short fields, and the names of the others in ``omitted``."""
    detail = shortened(detail)
    if _size(detail) <= MAX_DETAIL_BYTES:
        return detail
    small = {key: item for key, item in detail.items() if _size(item) <= SMALL_FIELD_BYTES}
    return {**small, "omitted": sorted(set(detail) - set(small))}


def _project_of(hub: Hub, request: ClientMessage, reply: Ack) -> str | None:
    """The id of the project the request was about, if any."""
    if reply.project is not None:
        return reply.project.id
    if reply.run is not None:
        return reply.run.project
    if reply.confirmation is not None:
        return reply.confirmation.project
    key = getattr(request, "project", None)
    found = hub.find_project(key) if isinstance(key, str) else None
    return found.id if found is not None else None


def _detail(request: ClientMessage, reply: Ack) -> dict[str, Any]:
    detail = request.model_dump(mode="json", exclude={"id", "type"}, exclude_none=True)
    if reply.run is not None:
        detail["run"] = reply.run.id
    if reply.token is not None:
        detail["token"] = reply.token.id
    return bounded(detail)


async def record(hub: Hub, grant: Grant, request: ClientMessage, reply: Ack) -> None:
    """Put a request that went through into the audit list (a failure to is logged:
    what the request did stands)."""
    try:
        project_id = _project_of(hub, request, reply)
        await hub.people.audit(
            grant.name, grant.token_id, request.type, project_id, _detail(request, reply)
        )
    except Exception as exc:
        log.error("could not record %s by %s in the audit list: %s", request.type, grant.name, exc)
