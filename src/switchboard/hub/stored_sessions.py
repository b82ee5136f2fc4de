"""A project's stored Claude sessions: list them, and import one's history into the log.

``session.use`` makes a session the CLI stored (from a terminal, an IDE, or an earlier
Switchboard) the project's: the next run resumes it, and the conversation so far is
appended to the project's log as events of kind ``imported`` (each line of the CLI's
transcript, unchanged), after a ``session`` event that says how many lines came and
how many were left out.
"""

import json
from collections.abc import Callable

from switchboard.agents.base import AgentDriver, SessionHistory
from switchboard.hub.bus import EventBus
from switchboard.protocol.messages import StoredSessionInfo
from switchboard.store.records import NewEvent, ProjectRecord

IMPORT_CHUNK = 500
"""Events appended (and committed) at a time."""


class StoredSessions:
    """The sessions the project's agent stored, read through its driver (``driver_for``
    the project: local, or over its remote agent's link)."""

    def __init__(self, driver_for: Callable[[ProjectRecord], AgentDriver]) -> None:
        self._driver_for = driver_for

    async def list(self, project: ProjectRecord) -> list[StoredSessionInfo]:
        found = await self._driver_for(project).list_sessions(project.path)
        return [
            StoredSessionInfo(
                id=session.id,
                first_prompt=session.first_prompt,
                started_at=session.started_at,
                updated_at=session.updated_at,
                current=session.id == project.session_id,
            )
            for session in found
        ]

    async def read(self, project: ProjectRecord, session_id: str) -> SessionHistory | None:
        """The session's conversation, or None if the agent has no such session here."""
        return await self._driver_for(project).read_session(project.path, session_id)

    @staticmethod
    async def append_history(
        bus: EventBus, project: ProjectRecord, session_id: str, history: SessionHistory
    ) -> None:
        """Log the switch, then the history, in chunks."""
        announcement = {
            "session_id": session_id,
            "reason": "session.use",
            "imported": len(history.lines),
            "omitted": history.omitted,
            "too_long": history.too_long,
        }
        await bus.append(project.id, project.epoch, [NewEvent("session", json.dumps(announcement))])
        for start in range(0, len(history.lines), IMPORT_CHUNK):
            chunk = history.lines[start : start + IMPORT_CHUNK]
            await bus.append(
                project.id, project.epoch, [NewEvent("imported", line) for line in chunk]
            )
