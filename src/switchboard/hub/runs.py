"""Runs: one prompt each, stored (:class:`~switchboard.store.ports.RunStore`) as they
change state."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from switchboard.agents.base import TurnMetrics
from switchboard.hub.cost_limit import CostLimit
from switchboard.protocol.messages import RunInfo, RunOptions, RunOrigin, RunState
from switchboard.store.records import UNFINISHED, RunRecord


@dataclass(slots=True)
class Run:
    id: str
    project_id: str
    prompt: str
    options: RunOptions
    state: RunState = "queued"
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    duration_ms: int | None = None
    num_turns: int | None = None
    cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    session_id: str | None = None
    error: str | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    end_recorded: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    """Set once the run's end is stored (a remote agent hears that the line which ended
    its turn is stored only then: a hub that died before must get that line again)."""
    mode_from_project: bool = False
    """The permission mode came from the project when the run started (so a change of
    the project's mode applies to it too)."""
    origin: RunOrigin = "client"
    by: str | None = None
    """The name of the token that sent the prompt (None: a follow-up turn)."""
    cost_limit: CostLimit | None = None
    """What the run may cost (its budget when it started; None: no limit)."""
    cost_so_far: float | None = None
    """What its turn had cost when the agent last said, while it ran."""
    stop_reason: str | None = None
    """Why the run was stopped by the server (its budget), if it was."""
    cost_counted: bool = False
    """Its end is stored, and its cost in the ledger (:mod:`switchboard.hub.budgets`)."""

    @classmethod
    def new(
        cls, project_id: str, prompt: str, options: RunOptions, origin: RunOrigin = "client"
    ) -> "Run":
        return cls(uuid.uuid4().hex[:16], project_id, prompt, options, origin=origin)

    @property
    def finished(self) -> bool:
        return self.state not in UNFINISHED

    def info(self) -> RunInfo:
        return RunInfo(
            id=self.id,
            project=self.project_id,
            state=self.state,
            prompt=self.prompt,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=self.duration_ms,
            num_turns=self.num_turns,
            cost_usd=self.cost_usd,
            usage=self.usage,
            session_id=self.session_id,
            error=self.error,
            origin=self.origin,
            by=self.by,
        )

    def cost_reported(self, cost: float) -> None:
        """The agent says what the run's turn has cost so far: a run that passed its
        limit is asked to stop (``stop_reason`` says why)."""
        self.cost_so_far = cost
        if self.cost_limit is None or self.stop_reason is not None or self.finished:
            return
        self.stop_reason = self.cost_limit.passed_by(cost)
        if self.stop_reason is not None:
            self.cancel_requested.set()

    def take_metrics(self, metrics: TurnMetrics) -> None:
        """Copy the figures of the run's turn (its own cost, not the process's)."""
        self.duration_ms = metrics.duration_ms
        self.num_turns = metrics.num_turns
        self.cost_usd = metrics.cost_usd
        self.usage = metrics.usage
        self.session_id = metrics.session_id or self.session_id

    def record(self) -> RunRecord:
        """The run as stored."""
        return RunRecord(
            id=self.id,
            project_id=self.project_id,
            prompt=self.prompt,
            options=self.options,
            state=self.state,
            created_at=self.created_at,
            origin=self.origin,
            by=self.by,
            started_at=self.started_at,
            finished_at=self.finished_at,
            duration_ms=self.duration_ms,
            num_turns=self.num_turns,
            cost_usd=self.cost_usd,
            usage=self.usage,
            session_id=self.session_id,
            error=self.error,
        )

    @classmethod
    def from_record(cls, record: RunRecord) -> "Run":
        """A stored run, live again (one a previous instance left unfinished)."""
        return cls(
            id=record.id,
            project_id=record.project_id,
            prompt=record.prompt,
            options=record.options,
            state=record.state,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            duration_ms=record.duration_ms,
            num_turns=record.num_turns,
            cost_usd=record.cost_usd,
            usage=record.usage,
            session_id=record.session_id,
            error=record.error,
            origin=record.origin,
            by=record.by,
        )
