"""What a remote agent says of its processes (output, asks, tool calls, withdrawals,
exits), as ``/ws/agent`` takes it: numbered in the agent's spool, so that a message sent
again after a reconnect is dropped, and each acknowledged once stored or handled. An
agent can report only on the processes the hub launched on it. While a cluster's node
takes the agent's projects over, news of processes it does not know yet is held
(:class:`~switchboard.hub.agent_sessions.AgentSessions`)."""

import logging
from collections.abc import Callable

from switchboard.agents.remote.driver import RemoteConnection
from switchboard.hub.agent_sessions import AgentSessions
from switchboard.protocol.agent_link import (
    LinkAsk,
    LinkExited,
    LinkOutput,
    LinkToolCall,
    LinkWithdrawn,
)

log = logging.getLogger(__name__)

SessionNews = LinkOutput | LinkAsk | LinkToolCall | LinkWithdrawn | LinkExited
"""What the agent says of one of its processes (numbered in its spool)."""


def take_news(
    sessions: AgentSessions, incoming: SessionNews, size: int
) -> RemoteConnection | AgentSessions | None:
    """Take a message of ``size`` characters; returns where it was taken, to wait for
    room there: the process whose output it is, or the agent's sessions holding it."""
    if not sessions.receipts.take(incoming.seq):
        return None
    finished = sessions.finisher(incoming.seq)
    if sessions.holding and incoming.session not in sessions.by_key:
        sessions.keep(incoming, size, finished)  # (its project may be coming here)
        return sessions
    return deliver_news(sessions, incoming, finished)


def deliver_news(
    sessions: AgentSessions, incoming: SessionNews, finished: Callable[[], None]
) -> RemoteConnection | None:
    """Hand news of a process to its connection here (none: it is dropped)."""
    connection = sessions.by_key.get(incoming.session)
    if connection is None:  # unknown (the hub restarted since): nothing to keep
        finished()
        return None
    try:
        match incoming:
            case LinkOutput():
                connection.on_output(
                    incoming.seq,
                    incoming.events,
                    incoming.background_pending,
                    incoming.turn_running,
                    finished,
                )
                return connection  # finished once the project's log holds it
            case LinkAsk():
                connection.on_ask(incoming.ask)
            case LinkToolCall():
                connection.on_tool_call(incoming.call)
            case LinkWithdrawn():
                connection.on_withdrawn(incoming.request_id)
            case LinkExited():
                connection.on_exited(incoming.returncode, incoming.stderr)
    except ValueError as exc:
        agent = sessions.agent
        log.warning("agent %s sent a %s the hub cannot read: %s", agent, incoming.type, exc)
    finished()
    return None
