"""What a project session does with each batch of events its agent reports.

Lines are stored in order, each attributed to the turn under way when it was printed:
a line printed while no turn is under way that means the agent began one by itself
(``starts_turn``) opens a follow-up run first; the end of a turn is told once its lines
are stored. Token deltas are published live only.
"""

import asyncio
import json
import time
from typing import TYPE_CHECKING

from switchboard.agents.base import (
    AgentConnection,
    AgentEvent,
    BackgroundChanged,
    BadOutput,
    CostSoFar,
    Delta,
    OutputLine,
    SessionIdentified,
    TaskReported,
    TodoListReported,
    ToolActivity,
    TurnEnded,
)
from switchboard.hub.back_channel import BackChannel
from switchboard.hub.bus import EventBus
from switchboard.hub.runs import Run
from switchboard.hub.turn import LiveAgent, Turn, TurnOutcome
from switchboard.protocol.back_channel import Activity
from switchboard.protocol.messages import delta_frame
from switchboard.store.ports import ProjectStore
from switchboard.store.records import NewEvent

if TYPE_CHECKING:
    from switchboard.hub.session import ProjectSession

END_RECORD_SECONDS = 30.0
"""How long a batch that ended a turn waits for the run's end to be stored."""


class OutputTaker:
    """Takes a session's agent output batch by batch (the session's pump calls it)."""

    def __init__(
        self,
        session: "ProjectSession",
        bus: EventBus,
        projects: ProjectStore,
        back_channel: BackChannel,
    ) -> None:
        self._session = session
        self._bus = bus
        self._projects = projects
        self._back_channel = back_channel
        self._pending: list[NewEvent] = []
        self._handled: tuple[AgentConnection | None, int] = (None, 0)
        """Events of the batch an agent yielded last that are stored or done with."""

    def handled_mark(self, agent: AgentConnection) -> str | None:
        """The agent's resume mark for what is stored or done with so far (None: a
        process that ends with the hub)."""
        taken, handled = self._handled
        return agent.resume_mark(handled if taken is agent else 0)

    async def take(self, process: LiveAgent, batch: list[AgentEvent]) -> None:
        session = self._session
        agent = process.agent
        session_id: str | None = None
        background_changed = False
        ended: list[Run] = []
        self._handled = (agent, 0)
        for index, event in enumerate(batch):
            turn = session.turn if session.turn and session.turn.agent is agent else None
            if type(event) is OutputLine or type(event) is Delta:
                await self._take_line(agent, index, event, turn)
            elif isinstance(event, BadOutput):
                run_id = turn.run.id if turn is not None else None
                body = json.dumps({"error": event.error, "line": event.preview})
                self._pending.append(NewEvent("cli_error", body, run_id))
            elif isinstance(event, TurnEnded):
                if turn is not None:  # a turn's end outside any turn changes nothing
                    await self._flush(agent, index)
                    session.end_turn_with(turn, TurnOutcome(event))
                    ended.append(turn.run)
                    self._handled = (agent, index + 1)
            elif isinstance(event, SessionIdentified):
                session_id = event.session_id
            elif isinstance(event, BackgroundChanged):
                background_changed = True
            elif isinstance(event, TaskReported | TodoListReported):
                await self._flush(agent, index)  # the task follows the lines before it
                run_id = turn.run.id if turn is not None else None
                await self._back_channel.tasks_reported(session.project_id, run_id, event)
            elif isinstance(event, ToolActivity | CostSoFar):
                self._take_news(turn, event)
        if session_id is not None and session.is_current(agent):
            await self._remember_session(session_id)  # before the mark passes it
        await self._flush(agent, len(batch))
        self._handled = (agent, len(batch))
        if background_changed:
            session.background_changed(process)
        if ended and not process.local:  # its agent forgets what the consumer took
            await _until_recorded(ended)

    async def _take_line(
        self, agent: AgentConnection, index: int, event: OutputLine | Delta, turn: Turn | None
    ) -> None:
        """A line to store (a delta to publish), in the turn under way; one that begins
        a turn while none is under way opens a follow-up run first."""
        session = self._session
        if turn is None and event.starts_turn:
            await self._flush(agent, index)
            turn = await session.start_follow_up(agent)
        run_id = turn.run.id if turn is not None else None
        if type(event) is OutputLine:
            self._pending.append(NewEvent("cli", event.text, run_id))
        else:
            await self._flush(agent, index)
            frame = delta_frame(session.project_id, run_id, event.text)
            self._bus.publish_delta(session.project_id, frame)

    def _take_news(self, turn: Turn | None, event: ToolActivity | CostSoFar) -> None:
        """What is not stored: activity is published live; what the turn has cost so
        far goes to its run (one that passed its budget is stopped)."""
        if isinstance(event, ToolActivity):
            self._publish_activity(turn, event)
        elif turn is not None:
            turn.run.cost_reported(event.cost_usd)

    def _publish_activity(self, turn: Turn | None, event: ToolActivity) -> None:
        project_id = self._session.project_id
        activity = Activity(
            project=project_id,
            run=turn.run.id if turn is not None else None,
            phase=event.phase,
            tool=event.tool,
            summary=event.summary,
            at=time.time(),
        )
        self._bus.publish_delta(project_id, activity.model_dump_json())

    async def _flush(self, agent: AgentConnection, handled: int) -> None:
        """Store the pending lines: the first ``handled`` events of the batch are then
        done with (the agent's resume mark, stored with them, says so)."""
        if self._pending:
            items, self._pending = self._pending, []
            project = self._projects.get(self._session.project_id)
            mark = agent.resume_mark(handled)
            await self._bus.append(self._session.project_id, project.epoch, items, mark)
            self._handled = (agent, handled)

    async def _remember_session(self, session_id: str) -> None:
        projects = self._projects
        project = projects.find(self._session.project_id)
        if project is not None and project.session_id != session_id:
            await projects.set_session(self._session.project_id, session_id)


async def _until_recorded(runs: list[Run]) -> None:
    """Wait until the end of each run whose turn the batch ended is stored: only then may
    a remote agent forget the line that ended it (the consumer comes back for the next
    batch). Bounded: a store that refuses the write must not stop the output."""
    waits = [asyncio.ensure_future(run.end_recorded.wait()) for run in runs]
    try:
        await asyncio.wait(waits, timeout=END_RECORD_SECONDS)
    finally:
        for wait in waits:
            wait.cancel()
