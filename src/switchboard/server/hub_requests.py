"""What each ``/ws`` request does: one handler per message type, each a few calls on
the hub facade, looked up in :data:`HANDLERS`.

A handler returns the reply (an ``ack`` mostly), or None when it replied itself
(``subscribe`` and ``confirmation.request`` must reply before what follows). A refusal
is raised as a :class:`~switchboard.exceptions.RequestRefused` and becomes an ``error``.
"""

import time
from typing import Any, cast

from switchboard import __version__
from switchboard.config import Settings
from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.messages import (
    Ack,
    Cancel,
    ClientMessage,
    ConfirmationRequest,
    ConfirmationResponse,
    ConfirmationWithdraw,
    Connected,
    DiagnosticsPublish,
    Heartbeat,
    HeartbeatAck,
    PauseTimer,
    PermissionMode,
    PermissionModeSet,
    PermissionsList,
    PermissionsRemove,
    ProjectAdd,
    ProjectBackChannel,
    ProjectBudget,
    ProjectList,
    ProjectRemove,
    ProjectRetention,
    Prompt,
    ResumeTimer,
    RunList,
    SessionList,
    SessionNew,
    SessionUse,
    SkillEventPublish,
    Subscribe,
    Unsubscribe,
    encode,
)
from switchboard.server import audit_trail, forwarding
from switchboard.server.account_requests import ACCOUNT_HANDLERS
from switchboard.server.audit_trail import audited
from switchboard.server.requester import (
    PRODUCER_REQUESTS,
    Following,
    Handler,
    Reply,
    Requester,
    check_allowed,
    fitting,
)
from switchboard.server.security import Grant

__all__ = ["HANDLERS", "PRODUCER_REQUESTS", "Following", "Requester", "dispatch", "snapshot"]


async def dispatch(requester: Requester, request: ClientMessage) -> Reply | None:
    """Check that the token may send ``request``, handle it, and put it in the audit
    list if it is a prompt, an answer or an admin change that went through."""
    check_allowed(requester, request)
    if not forwarding.is_forwarded(requester):  # on a cluster: the owner may be another node
        node = forwarding.owner_to_ask(requester.hub, request)
        forwarded = None if node is None else await forwarding.forward(requester, request, node)
        if forwarded is not None:
            return forwarded
        if request.type in forwarding.BY_CONFIRMATION:
            answered = await forwarding.forward_answer(requester, request)
            if answered is not None:
                return answered
    reply = await HANDLERS[type(request)](requester, request)
    if isinstance(reply, Ack) and audited(request.type):
        await audit_trail.record(requester.hub, requester.grant, request, reply)
    return reply


async def serve_forwarded(hub: Hub, settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """Handle a request another node of the cluster forwarded; the reply it sends back."""
    requester, request = forwarding.forwarded_requester(hub, settings, body)
    reply = await dispatch(requester, request)
    if reply is None:
        raise HubError("bad_message", f"{request.type} is not forwarded")
    return {"reply": encode(reply)}


def snapshot(hub: Hub, settings: Settings, grant: Grant) -> Connected:
    """The ``connected`` message: what the client may see, and the limits it meets."""
    full = grant.scope == "full"
    return Connected(
        server_version=__version__,
        scope="full" if full else "produce",  # an agent token never opens /ws
        role=grant.role if full else None,
        projects=[p for p in hub.project_infos() if full or grant.covers(p.id)],
        running_runs=hub.running_runs() if full else [],
        running_skills=hub.running_skills() if full else [],
        pending_confirmations=hub.pending_confirmations() if full else [],
        limits={
            "max_message_bytes": settings.max_message_bytes,
            "subscriber_queue_bytes": settings.subscriber_queue_bytes,
            "max_queued_runs": settings.max_queued_runs,
            "max_concurrent_runs": settings.max_concurrent_runs,
            "run_timeout": settings.run_timeout,
            "request_rate": settings.request_rate,
            "request_burst": settings.request_burst,
            "push_idle_seconds": hub.people.push_idle_seconds,
        },
        # the hub's list holds only modes the protocol knows (checked at startup)
        permission_modes=cast(list[PermissionMode], hub.permission_modes()),
        agents=hub.agent_infos() if full else [],
        tasks=hub.tasks() if full else [],
        push_public_key=hub.people.push_public_key if full else None,
    )


# -- following projects ------------------------------------------------------------------


async def _subscribe(c: Requester, request: Subscribe) -> None:
    await c.subscriptions.subscribe(request, c.reply)


async def _unsubscribe(c: Requester, request: Unsubscribe) -> Reply:
    return await c.subscriptions.unsubscribe(request)


async def _heartbeat(c: Requester, request: Heartbeat) -> Reply:
    return HeartbeatAck(id=request.id, server_time=time.time())


# -- runs --------------------------------------------------------------------------------


async def _prompt(c: Requester, request: Prompt) -> Reply:
    if request.options.permission_mode == "bypassPermissions" and c.grant.role != "admin":
        raise HubError(
            "forbidden",
            f"a {c.grant.role} token may not run with bypassPermissions (no confirmations "
            "at all): only an admin may",
        )
    run = await c.hub.submit(request.project, request.text, request.options, c.grant.name)
    return Ack(id=request.id, run=run.info())


async def _cancel(c: Requester, request: Cancel) -> Reply:
    run = await c.hub.cancel(request.project, request.run)
    return Ack(id=request.id, run=run.info())


async def _run_list(c: Requester, request: RunList) -> Reply:
    """A page of runs, cut short where the reply would outgrow ``--max-message-bytes``
    (but never empty while there are runs: the client pages on from the last one)."""
    runs = await c.hub.list_runs(request.project, request.limit, request.before)
    room = c.settings.max_message_bytes - len(encode(Ack(id=request.id, runs=[])))
    return Ack(id=request.id, runs=fitting(runs, room))


# -- projects ----------------------------------------------------------------------------


async def _project_add(c: Requester, request: ProjectAdd) -> Reply:
    info = await c.hub.add_project(request.path, request.name, request.agent)
    return Ack(id=request.id, project=info)


async def _project_list(c: Requester, request: ProjectList) -> Reply:
    return Ack(id=request.id, projects=c.hub.project_infos())


async def _project_remove(c: Requester, request: ProjectRemove) -> Reply:
    info = c.hub.project_info(c.hub.project(request.project).id)
    await c.hub.remove_project(request.project)
    return Ack(id=request.id, project=info)


async def _permission_mode(c: Requester, request: PermissionModeSet) -> Reply:
    info = await c.hub.set_permission_mode(request.project, request.mode, c.grant.name)
    return Ack(id=request.id, project=info)


async def _retention(c: Requester, request: ProjectRetention) -> Reply:
    info = await c.hub.set_retention(request.project, request.max_age_seconds, request.max_bytes)
    return Ack(id=request.id, project=info)


async def _budget(c: Requester, request: ProjectBudget) -> Reply:
    info = await c.hub.set_budget(request.project, request.daily_usd, request.run_usd)
    return Ack(id=request.id, project=info)


async def _session_new(c: Requester, request: SessionNew) -> Reply:
    return Ack(id=request.id, project=await c.hub.new_session(request.project, c.grant.name))


async def _session_list(c: Requester, request: SessionList) -> Reply:
    return Ack(id=request.id, sessions=await c.hub.list_sessions(request.project))


async def _session_use(c: Requester, request: SessionUse) -> Reply:
    return Ack(id=request.id, project=await c.hub.use_session(request.project, request.session))


async def _back_channel(c: Requester, request: ProjectBackChannel) -> Reply:
    info = await c.hub.set_back_channel(request.project, request.enabled)
    return Ack(id=request.id, project=info)


async def _diagnostics(c: Requester, request: DiagnosticsPublish) -> Reply:
    """An IDE extension or a script shares a file's diagnostics (a ``produce`` token
    may, for its projects)."""
    project = c.hub.project(request.project)
    grant = c.grant
    if grant.scope != "full" and not grant.covers(project.id):
        raise HubError("forbidden", f"this token may not publish to {project.name!r}")
    by = grant.name if grant.token_id is not None else None
    file = await c.hub.publish_diagnostics(project.id, request.path, request.diagnostics, by)
    return Ack(id=request.id, diagnostics=[file])


# -- confirmations and rules -------------------------------------------------------------


async def _confirmation_response(c: Requester, request: ConfirmationResponse) -> Reply:
    c.subscriptions.check_follows(request.confirmation_id)
    confirmation = await c.hub.answer_confirmation(request, c.grant.name)
    return Ack(id=request.id, confirmation=confirmation)


async def _timer(c: Requester, request: PauseTimer | ResumeTimer) -> Reply:
    c.subscriptions.check_follows(request.confirmation_id)
    paused = isinstance(request, PauseTimer)
    confirmation = await c.hub.pause_confirmation(request.confirmation_id, paused)
    return Ack(id=request.id, confirmation=confirmation)


async def _rules(c: Requester, request: PermissionsList) -> Reply:
    return Ack(id=request.id, rules=c.hub.rules_of(request.project))


async def _rule_remove(c: Requester, request: PermissionsRemove) -> Reply:
    return Ack(id=request.id, rules=[await c.hub.remove_rule(request.project, request.rule)])


# -- the skill API -----------------------------------------------------------------------


async def _skill_event(c: Requester, request: SkillEventPublish) -> Reply:
    return await c.producer.publish(request)


async def _confirmation_request(c: Requester, request: ConfirmationRequest) -> None:
    await c.producer.ask(request, c.reply)


async def _confirmation_withdraw(c: Requester, request: ConfirmationWithdraw) -> Reply:
    return await c.producer.withdraw(request)


HANDLERS: dict[type[Any], Handler] = {
    Subscribe: _subscribe,
    Unsubscribe: _unsubscribe,
    Heartbeat: _heartbeat,
    Prompt: _prompt,
    Cancel: _cancel,
    RunList: _run_list,
    ProjectAdd: _project_add,
    ProjectList: _project_list,
    ProjectRemove: _project_remove,
    PermissionModeSet: _permission_mode,
    ProjectRetention: _retention,
    ProjectBudget: _budget,
    SessionNew: _session_new,
    SessionList: _session_list,
    SessionUse: _session_use,
    ConfirmationResponse: _confirmation_response,
    PauseTimer: _timer,
    ResumeTimer: _timer,
    PermissionsList: _rules,
    PermissionsRemove: _rule_remove,
    SkillEventPublish: _skill_event,
    ConfirmationRequest: _confirmation_request,
    ConfirmationWithdraw: _confirmation_withdraw,
    ProjectBackChannel: _back_channel,
    DiagnosticsPublish: _diagnostics,
    **ACCOUNT_HANDLERS,
}
"""Every client message type, and what it does."""
