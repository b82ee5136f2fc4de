"""What a project session does with each batch of lines its CLI prints.

Lines are stored in order, each attributed to the turn under way when it was printed:
a line printed while no turn is under way that means the CLI began one by itself
(:func:`~switchboard.agents.turns.starts_a_turn`) opens a follow-up run first; the
``result`` ends the turn, with its own figures, once it is stored. Token deltas are
published live only.
"""

import json
import time
from typing import TYPE_CHECKING

from switchboard.agents.turns import starts_a_turn
from switchboard.hub.bus import EventBus
from switchboard.hub.plans import plan_file_written
from switchboard.hub.turn import CliProcess, Turn, TurnOutcome
from switchboard.protocol.cli_messages import BadLine, CliMessage
from switchboard.protocol.messages import delta_frame
from switchboard.store.events import NewEvent
from switchboard.store.projects import ProjectStore

if TYPE_CHECKING:
    from switchboard.hub.session import ProjectSession


class OutputTaker:
    """Takes a session's CLI output batch by batch (the session's pump calls it)."""

    def __init__(self, session: "ProjectSession", bus: EventBus, projects: ProjectStore) -> None:
        self._session = session
        self._bus = bus
        self._projects = projects
        self._pending: list[NewEvent] = []

    async def take(self, process: CliProcess, batch: list[CliMessage | BadLine]) -> None:
        session = self._session
        session_id: str | None = None
        background_changed = False
        for item in batch:
            turn = session.turn if session.turn and session.turn.claude is process.claude else None
            if isinstance(item, BadLine):
                run_id = turn.run.id if turn is not None else None
                body = json.dumps({"error": item.describe(), "line": item.preview})
                self._pending.append(NewEvent("cli_error", body, run_id))
                continue
            data = item.data
            if turn is None and starts_a_turn(data):
                await self._flush()
                turn = await session.start_follow_up(process.claude)
            run_id = turn.run.id if turn is not None else None
            background_changed |= process.background.observe(data, time.monotonic())
            if item.type == "stream_event":
                await self._flush()
                frame = delta_frame(session.project_id, run_id, item.text)
                self._bus.publish_delta(session.project_id, frame)
                continue
            self._pending.append(NewEvent("cli", item.text, run_id))
            if item.type == "assistant":
                written = plan_file_written(data, session.plans_directory)
                session.plan_file = written or session.plan_file
                process.books.observe(data)
            elif item.type in ("system", "result"):
                found = data.get("session_id")
                if isinstance(found, str) and found:
                    session_id = found
            if item.type == "result":
                await self._end_turn(process, turn, item)
        await self._flush()
        if session_id is not None and session.is_current(process.claude):
            await self._remember_session(session_id)
        if background_changed:
            session.background_changed(process)

    async def _end_turn(self, process: CliProcess, turn: Turn | None, result: CliMessage) -> None:
        """Store the result, then end its turn with the turn's own figures."""
        metrics = process.books.finish(result.data)
        failure = process.books.failure(result.data)
        if turn is None:
            return  # a result outside any turn: the books are kept right all the same
        await self._flush()
        self._session.end_turn_with(turn, TurnOutcome(result.data, None, metrics, failure))

    async def _flush(self) -> None:
        if self._pending:
            items, self._pending = self._pending, []
            project = self._projects.get(self._session.project_id)
            await self._bus.append(self._session.project_id, project.epoch, items)

    async def _remember_session(self, session_id: str) -> None:
        projects = self._projects
        project = projects.find(self._session.project_id)
        if project is not None and project.session_id != session_id:
            await projects.set_session(self._session.project_id, session_id)
