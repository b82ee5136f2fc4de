"""The project registry: which projects are open, what clients see of them, and who
hears when that changes.

Every part of the hub finds a project here (by id, name or path), appends to its log
through :meth:`ProjectRegistry.append` (which knows the project's epoch), and tells the
listeners (the ``/ws`` connections) of a new ``project_status``.
"""

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any, Protocol

from switchboard.exceptions import RequestRefused
from switchboard.hub.bus import EventBus
from switchboard.hub.ownership import Solo
from switchboard.hub.project_state import ProjectState
from switchboard.hub.retention import Retention
from switchboard.protocol.messages import (
    BudgetInfo,
    ProjectInfo,
    ProjectRemoved,
    ProjectStatus,
    RetentionInfo,
    RunInfo,
    encode,
)
from switchboard.store.ports import ProjectStore
from switchboard.store.records import NewEvent, ProjectRecord


class HubError(RequestRefused):
    """A request the hub refuses."""


StatusListener = Callable[[ProjectStatus | ProjectRemoved, str], None]
"""Called with the message and its encoded frame (encoded once for every listener)."""


class Owners(Protocol):
    """Which node of a cluster owns each project (:mod:`switchboard.hub.ownership`)."""

    @property
    def node_id(self) -> str | None:
        """This node's id; None on the only server."""
        ...

    def is_mine(self, project_id: str) -> bool: ...

    def owner(self, project_id: str) -> str | None: ...


class ProjectRegistry:
    def __init__(
        self,
        projects: ProjectStore,
        bus: EventBus,
        retention: Retention,
        agent_online: Callable[[str], bool],
        budget_of: Callable[[str], BudgetInfo] | None = None,
    ) -> None:
        """``budget_of``: a project's budgets and spend, as clients see them."""
        self.records = projects
        self._budget_of = budget_of
        self.bus = bus
        self._retention = retention
        self._agent_online = agent_online
        self._states: dict[str, ProjectState] = {}
        self._listeners: set[StatusListener] = set()
        self.accepting = True
        """False from the start of shutdown: requests that change state are refused."""
        self.owners: Owners = Solo()
        """Who owns each project: this server alone, unless it is a cluster's node."""
        self._remote: dict[str, ProjectInfo] = {}
        """The status of projects other nodes run, as their owners last told."""

    # -- finding projects ---------------------------------------------------------------

    def track(self, state: ProjectState) -> None:
        self._states[state.id] = state

    def forget(self, project_id: str) -> None:
        del self._states[project_id]
        self._remote.pop(project_id, None)
        self.bus.forget(project_id)

    def states(self) -> list[ProjectState]:
        return list(self._states.values())

    def state(self, project_id: str) -> ProjectState | None:
        return self._states.get(project_id)

    def live_ids(self) -> list[str]:
        """The projects that are open and not being removed."""
        return [state.id for state in self._states.values() if not state.removing]

    def project(self, key: str) -> ProjectRecord:
        """The open project ``key`` names (its id, name or path), or ``unknown_project``."""
        record = self.records.find(key)
        state = self._states.get(record.id) if record is not None else None
        if record is None or state is None or state.removing:
            raise HubError("unknown_project", f"no project {key!r}")
        return record

    @contextlib.asynccontextmanager
    async def changing(self, key: str) -> AsyncIterator[tuple[ProjectRecord, ProjectState]]:
        """The project, locked against removal for the duration of a request (one
        that changes it: on a cluster, only its owner may)."""
        record = self.project(key)
        self.check_mine(record.id)
        state = self._states[record.id]
        async with state.changing:
            if state.removing:
                raise HubError("unknown_project", f"no project {key!r}")
            yield record, state

    def check_mine(self, project_id: str) -> None:
        """Refuse (``not_owner``) unless this node owns the project."""
        if not self.owners.is_mine(project_id):
            owner = self.owners.owner(project_id)
            where = f"node {owner!r} owns it" if owner else "no node owns it right now"
            raise HubError("not_owner", f"project {project_id}: {where}")

    def refuse_when_closing(self) -> None:
        if not self.accepting:
            raise HubError("shutting_down", "the server is shutting down")

    def stopping(self, state: ProjectState) -> bool:
        """The project takes no more runs: shutdown began, it is being removed, or
        another node of a cluster owns it now."""
        return not self.accepting or state.removing or state.elsewhere

    # -- writing its log ----------------------------------------------------------------

    async def append(self, project_id: str, *events: NewEvent) -> None:
        """Append to the project's log, in its current epoch (on a cluster's node, only
        to a project it owns: its owner alone numbers its events)."""
        self.check_mine(project_id)
        epoch = self.records.get(project_id).epoch
        await self.bus.append(project_id, epoch, list(events))

    # -- what clients see ---------------------------------------------------------------

    def heard(self, info: ProjectInfo) -> None:
        """The owner of a project this node does not run told how it is now."""
        if not self.owners.is_mine(info.id) and info.id in self._states:
            self._remote[info.id] = info
            self.notify(ProjectStatus(project=self.info(info.id)))

    def info(self, project_id: str) -> ProjectInfo:
        record = self.records.get(project_id)
        state = self._states[project_id]
        if not self.owners.is_mine(project_id):
            return self._remote_info(record)
        self._remote.pop(project_id, None)
        under_way = state.under_way
        return self._described(
            record,
            status="running" if under_way is not None else "idle",
            running_run=under_way.id if under_way is not None else None,
            queued=len(state.queue),
            total_cost_usd=round(state.cost_usd, 6),
            background_tasks=state.session.background_tasks,
            retention=RetentionInfo(**asdict(self._retention.policy(record.id))),
            store_error=state.store_error,
            agent_online=self._agent_online(record.agent) if record.agent is not None else None,
            budget=self._budget_of(record.id) if self._budget_of else BudgetInfo(),
            node=self.owners.node_id,
        )

    def _remote_info(self, record: ProjectRecord) -> ProjectInfo:
        """A project another node runs: as its owner last told, with the head the
        listeners here have reached; idle, as stored, if it told nothing yet."""
        told = self._remote.get(record.id)
        node = self.owners.owner(record.id)
        if told is not None:
            return told.model_copy(update={"head": self.bus.head(record.id), "node": node})
        return self._described(record, status="idle", running_run=None, queued=0, node=node)

    def _described(self, record: ProjectRecord, **live: Any) -> ProjectInfo:
        """The project as stored and as its log stands here, with what its owner knows
        (``live``: its status, queue, cost, …)."""
        return ProjectInfo(
            id=record.id,
            name=record.name,
            path=str(record.path),
            session_id=record.session_id,
            epoch=record.epoch,
            head=self.bus.head(record.id),
            first_seq=self.bus.first(record.id),
            permission_mode=record.permission_mode,  # type: ignore[arg-type]
            agent=record.agent,
            back_channel=record.back_channel,
            **live,
        )

    def infos(self) -> list[ProjectInfo]:
        return [self.info(r.id) for r in self.records.all() if r.id in self._states]

    def running_runs(self) -> list[RunInfo]:
        return [
            run.info()
            for state in self._states.values()
            for run in (state.running, state.follow_up)
            if run is not None
        ]

    # -- listeners ----------------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        self._listeners.discard(listener)

    def notify(self, message: ProjectStatus | ProjectRemoved) -> None:
        frame = encode(message)
        for listener in tuple(self._listeners):
            listener(message, frame)

    def notify_status(self, project_id: str, *, while_stopping: bool = False) -> None:
        """Tell everyone how the project is now; while it stops, only if
        ``while_stopping`` (how its runs ended during shutdown, say)."""
        state = self._states.get(project_id)
        if state is not None and (while_stopping or not self.stopping(state)):
            self.notify(ProjectStatus(project=self.info(project_id)))
