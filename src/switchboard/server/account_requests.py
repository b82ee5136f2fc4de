"""The ``/ws`` requests about people rather than projects: tokens, the audit list,
push subscriptions and presence."""

from typing import Any

from switchboard.protocol.messages import Ack, encode
from switchboard.protocol.people import (
    AuditList,
    Presence,
    PushSubscribe,
    PushUnsubscribe,
    TokenCreate,
    TokenList,
    TokenRevoke,
)
from switchboard.server.requester import Handler, Reply, Requester, fitting

# -- tokens ------------------------------------------------------------------------------


async def _token_create(c: Requester, request: TokenCreate) -> Reply:
    token, secret = await c.hub.people.create_token(request.name, request.scope, request.projects)
    return Ack(id=request.id, token=token, secret=secret)


async def _token_list(c: Requester, request: TokenList) -> Reply:
    return Ack(id=request.id, tokens=c.hub.people.token_infos())


async def _token_revoke(c: Requester, request: TokenRevoke) -> Reply:
    return Ack(id=request.id, tokens=[await c.hub.people.revoke_token(request.token)])


async def _audit_list(c: Requester, request: AuditList) -> Reply:
    """A page of the audit list, cut short where the reply would outgrow
    ``--max-message-bytes`` (the client pages on with ``before``)."""
    entries = await c.hub.people.audit_entries(request.project, request.before, request.limit)
    room = c.settings.max_message_bytes - len(encode(Ack(id=request.id, audit=[])))
    return Ack(id=request.id, audit=fitting(entries, room))


# -- push notifications ------------------------------------------------------------------


async def _push_subscribe(c: Requester, request: PushSubscribe) -> Reply:
    await c.hub.people.push_subscribe(request.subscription, c.grant.token_id)
    return Ack(id=request.id)


async def _push_unsubscribe(c: Requester, request: PushUnsubscribe) -> Reply:
    await c.hub.people.push_unsubscribe(request.endpoint)
    return Ack(id=request.id)


async def _presence(c: Requester, request: Presence) -> Reply:
    """The requester (its connection) shows these projects to a person, or no longer."""
    c.hub.people.report_presence(c, request.projects, request.visible)
    return Ack(id=request.id)


ACCOUNT_HANDLERS: dict[type[Any], Handler] = {
    TokenCreate: _token_create,
    TokenList: _token_list,
    TokenRevoke: _token_revoke,
    AuditList: _audit_list,
    PushSubscribe: _push_subscribe,
    PushUnsubscribe: _push_unsubscribe,
    Presence: _presence,
}
