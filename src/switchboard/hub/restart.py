"""Restart recovery: what a previous server left behind when it stopped or died.

- A run it was executing ends ``interrupted``, and the confirmations that run had open
  are closed (``server_restart``: a CLI that asked is gone). A run on a remote agent
  whose process can be taken back goes on instead: its driver resumes the process from
  the mark its output was last stored with, and its open questions are asked again
  (the old confirmations close with the fallback ``asked_again``).
- A run still queued stays queued and runs in turn.
- Questions skills asked, and skills that started and never ended (their producers went
  with the server), are closed and failed in their producers' names.

The logged events are read back through the protocol's own models, never by hand.
"""

import logging
import time
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from switchboard.agents.base import AgentDriver
from switchboard.hub.project_state import ProjectState
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.run_lifecycle import RunLifecycle
from switchboard.hub.runs import Run
from switchboard.hub.scheduler import Scheduler
from switchboard.protocol.messages import (
    ConfirmationAnswered,
    ConfirmationEvent,
    ConfirmationExpired,
    ConfirmationRequired,
    Fallback,
)
from switchboard.protocol.skills import SkillCompleted, SkillEvent, SkillFailed, SkillStarted
from switchboard.store.ports import RunStore
from switchboard.store.records import ProjectRecord, StoredEvent

log = logging.getLogger(__name__)

INTERRUPTED_SKILL = "the server stopped while this skill was running"

RecordConfirmation = Callable[[str, str | None, ConfirmationEvent], Awaitable[None]]
"""Appends a confirmation event to a project's log (project, run, body)."""
FailSkill = Callable[[str, SkillFailed, str], Awaitable[object]]
"""Records a skill's failure in a project in a producer's name."""

_Body = TypeVar("_Body")
_confirmation_events: TypeAdapter[ConfirmationEvent] = TypeAdapter(ConfirmationEvent)
_skill_events: TypeAdapter[SkillEvent] = TypeAdapter(SkillEvent)


class RestartRecovery:
    def __init__(
        self,
        registry: ProjectRegistry,
        runs: RunStore,
        *,
        scheduler: Scheduler,
        lifecycle: RunLifecycle,
        record_confirmation: RecordConfirmation,
        fail_skill: FailSkill,
        driver_for: Callable[[ProjectRecord], AgentDriver],
    ) -> None:
        self._driver_for = driver_for
        self._registry = registry
        self._runs = runs
        self._scheduler = scheduler
        self._lifecycle = lifecycle
        self._record_confirmation = record_confirmation
        self._fail_skill = fail_skill

    async def reopen(
        self,
        project_ids: Collection[str] | None = None,
        cause: str = "the server stopped during this run",
    ) -> None:
        """Open every stored project (or those of ``project_ids``: the projects a
        cluster's node takes over; they may be open already) with what its runs cost,
        close what its skills left open, then end or requeue the runs a previous server
        (or owner) did not finish: a run it was executing ends ``interrupted`` with
        ``cause`` as its error."""
        costs = await self._runs.costs_by_project()
        for record in self._registry.records.all():
            if project_ids is not None and record.id not in project_ids:
                continue
            opened = self._registry.state(record.id) or self._scheduler.open(record.id)
            opened.cost_usd = costs.get(record.id, 0.0)
            await self._close_what_skills_left_open(record.id)
        for run in map(Run.from_record, await self._runs.unfinished()):
            state = self._registry.state(run.project_id)
            if state is None or (project_ids is not None and run.project_id not in project_ids):
                continue
            if run.state == "running" and await self._take_back(state, run):
                continue
            if run.state == "running":
                await self._close_open_confirmations(run.project_id, run.id)
                run.state = "interrupted"
                run.finished_at = time.time()
                run.error = cause
                await self._lifecycle.record(state, run)
            elif all(queued.id != run.id for queued in state.queue):  # (a prompt may
                self._scheduler.requeue(state, run)  # have come while a node took over)

    async def _take_back(self, state: ProjectState, run: Run) -> bool:
        """Resume the process working on ``run`` where it outlives the hub (on a remote
        agent), and have the worker see the run through; False where it cannot be."""
        record = self._registry.records.get(run.project_id)
        found = await self._registry.bus.log.resume_mark(run.project_id)
        if found is None or found[1] != run.id:  # its turn had not begun in that process
            return False
        process = await self._driver_for(record).resume(found[0], state.session)
        if process is None:
            return False
        await self._close_open_confirmations(run.project_id, run.id, fallback="asked_again")
        self._scheduler.resume(state, run, state.session.adopt(run, process))
        log.info("run %s goes on: its process on %s was taken back", run.id, record.agent)
        return True

    async def _close_open_confirmations(
        self,
        project_id: str,
        run_id: str | None,
        logged: list[StoredEvent] | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        """Say that the confirmations a previous server left unanswered are closed:
        those of a run, or with ``run_id`` None those skills asked. ``logged``: the
        confirmation events to go by, if already read."""
        if logged is None:
            logged = await self._registry.bus.log.read_run(project_id, run_id, "confirmation")
        opened: list[str] = []
        for event in logged:
            body = _read(_confirmation_events, event)
            if isinstance(body, ConfirmationRequired):
                opened.append(body.confirmation.id)
            elif (
                isinstance(body, ConfirmationAnswered | ConfirmationExpired)
                and body.confirmation_id in opened
            ):
                opened.remove(body.confirmation_id)
        for confirmation_id in opened:
            closed = ConfirmationExpired(
                confirmation_id=confirmation_id,
                reason="server_restart",
                fallback=fallback or ("deny" if run_id is not None else "let_claude"),
            )
            await self._record_confirmation(project_id, run_id, closed)

    async def _close_what_skills_left_open(self, project_id: str) -> None:
        """Close the questions skills asked, then end the skills that started and never
        ended, in their producer's name. One read of the project's run-less events
        serves both."""
        logged = await self._registry.bus.log.read_run(project_id, None, "confirmation", "skill")
        questions = [event for event in logged if event.kind == "confirmation"]
        await self._close_open_confirmations(project_id, None, questions)
        running: dict[str, str] = {}  # skill id -> producer
        for event in logged:
            body = _read(_skill_events, event) if event.kind == "skill" else None
            if isinstance(body, SkillStarted):
                running[body.skill_id] = body.producer or "server"
            elif isinstance(body, SkillCompleted | SkillFailed):
                running.pop(body.skill_id, None)
        for skill_id, producer in running.items():
            failed = SkillFailed(skill_id=skill_id, error=INTERRUPTED_SKILL)
            await self._fail_skill(project_id, failed, producer)


def _read(adapter: TypeAdapter[_Body], event: StoredEvent) -> _Body | None:
    """The event's body as the protocol defines it; None (logged) if it is not one."""
    try:
        return adapter.validate_json(event.body)
    except ValidationError as exc:
        log.warning("event %s of project %s is not readable: %s", event.seq, event.project_id, exc)
        return None
