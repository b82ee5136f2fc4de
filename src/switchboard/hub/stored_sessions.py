"""A project's stored Claude sessions: list them, and import one's history into the log.

``session.use`` makes a session the CLI stored (from a terminal, an IDE, or an earlier
Switchboard) the project's: the next run resumes it, and the conversation so far is
appended to the project's log as events of kind ``imported`` (each line of the CLI's
transcript, unchanged), after a ``session`` event that says how many lines came and
how many were left out.
"""

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.agents import transcripts
from switchboard.hub.bus import EventBus
from switchboard.protocol.messages import StoredSessionInfo
from switchboard.store.events import NewEvent
from switchboard.store.projects import ProjectRecord

IMPORT_CHUNK = 500
"""Events appended (and committed) at a time."""


@dataclass(frozen=True, slots=True)
class ImportLimits:
    max_events: int = 5000
    """The newest lines of a transcript that are imported; older ones are counted."""
    max_line_bytes: int = 16 * 1024 * 1024


class StoredSessions:
    """Reads the CLI's session store with the environment the CLI runs in."""

    def __init__(self, env: Mapping[str, str], limits: ImportLimits) -> None:
        self._env = dict(env)
        self._limits = limits

    async def list(self, project: ProjectRecord) -> list[StoredSessionInfo]:
        found = await asyncio.to_thread(transcripts.list_sessions, project.path, self._env)
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

    async def read(self, project: ProjectRecord, session_id: str) -> transcripts.Transcript | None:
        """The session's conversation, or None if the CLI has no such session here."""
        path = transcripts.find_session(project.path, self._env, session_id)
        if path is None:
            return None
        limits = self._limits
        return await asyncio.to_thread(
            transcripts.read_transcript, path, limits.max_events, limits.max_line_bytes
        )

    @staticmethod
    async def append_history(
        bus: EventBus, project: ProjectRecord, session_id: str, history: transcripts.Transcript
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
