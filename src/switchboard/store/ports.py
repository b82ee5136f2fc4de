"""The stores the hub works with, as interfaces: a store is a new implementation of
these, not a new branch in the hub. :mod:`switchboard.store.sqlite` implements them.

Each store keeps what the hub reads often in memory (so those reads do not wait) and
is its table's only writer; an async method returns once its change is durable.
:meth:`load` (``load_heads`` for the event log) reads the store's state once, before
anything else is called. The hub receives them together, as :class:`Stores`.
"""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from switchboard.protocol.back_channel import DiagnosticsInfo, TaskInfo
from switchboard.protocol.people import AuditEntry
from switchboard.store.records import (
    BudgetLimits,
    Lease,
    Leftover,
    NewEvent,
    PermissionRule,
    ProjectRecord,
    PushSubscriptionRecord,
    RetentionPolicy,
    RuleKey,
    RunRecord,
    ScopedToken,
    StoredEvent,
)


class EventLog(Protocol):
    """Each project's events, numbered 1, 2, 3, … with no gap (``seq``).

    ``seq`` is assigned when :meth:`append` is called, so call order is seq order, and
    :meth:`append` returns once the events are durable. If a write fails,
    :class:`~switchboard.exceptions.StoreError` is raised for it and for the project's
    writes queued behind it; the next append numbers on from the last stored event.
    """

    async def load_heads(self) -> None: ...

    def head(self, project_id: str) -> int:
        """The last ``seq`` assigned in ``project_id`` (0 for none)."""
        ...

    def note_head(self, project_id: str, seq: int) -> None:
        """Another node of a cluster appended up to ``seq``."""
        ...

    async def reload(self, project_id: str) -> None:
        """Read the project's first and last stored ``seq`` again (on a cluster's node
        that takes the project over from another)."""
        ...

    async def stored_heads(self) -> dict[str, int]:
        """The last stored ``seq`` of every project that has events."""
        ...

    def first(self, project_id: str) -> int:
        """The oldest ``seq`` still kept in ``project_id``: 1 unless it was trimmed."""
        ...

    def appended_chars(self, project_id: str) -> int:
        """Characters of event bodies appended to ``project_id`` since start."""
        ...

    def forget(self, project_id: str) -> None:
        """The project was removed (its events went with it)."""
        ...

    async def append(
        self, project_id: str, epoch: int, items: Sequence[NewEvent], mark: str | None = None
    ) -> list[StoredEvent]:
        """``mark``, if given, becomes the project's resume mark in the same
        transaction as the events (see :meth:`resume_mark`)."""
        ...

    async def resume_mark(self, project_id: str) -> tuple[str, str | None] | None:
        """The project's resume mark (how far the output of its process on a remote
        agent is stored, as that process's driver put it) and the run whose turn
        began last in that process; None: no mark kept."""
        ...

    async def keep_mark(self, project_id: str, mark: str, run_id: str | None) -> None:
        """Set the project's resume mark as a turn of ``run_id`` begins."""
        ...

    async def read(self, project_id: str, after: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` stored events of ``project_id`` with ``seq > after``, in order."""
        ...

    async def read_run(self, project_id: str, run_id: str | None, *kinds: str) -> list[StoredEvent]:
        """The stored events of one run (None: of no run) and of these kinds, in order."""
        ...

    async def age_cutoff(self, project_id: str, older_than: float, last: int) -> int:
        """The newest seq, up to ``last``, of an event stored before the time
        ``older_than``; 0 when there is none."""
        ...

    async def size_cutoff(self, project_id: str, max_chars: int, last: int) -> tuple[int, int]:
        """The seq of the newest event up to ``last`` that does not fit in
        ``max_chars`` together with the events after it (0: they all fit), and the
        characters of the events that fit."""
        ...

    async def trim(self, project_id: str, up_to: int) -> int:
        """Forget the events with ``seq <= up_to``, oldest first (:meth:`first` moves
        at once); returns how many went."""
        ...


class ProjectStore(Protocol):
    """Registered projects, by id, name or path."""

    async def load(self) -> None: ...

    def all(self) -> list[ProjectRecord]:
        """Every project, by name."""
        ...

    def find(self, key: str) -> ProjectRecord | None:
        """The project whose id, name or path is ``key`` (a path names a project of
        this machine: one on an agent goes by its id or name)."""
        ...

    def get(self, key: str) -> ProjectRecord:
        """:meth:`find`, or :class:`~switchboard.store.projects.ProjectError`."""
        ...

    async def add(
        self, raw_path: str, name: str | None = None, allowed_roots: Iterable[Path] = ()
    ) -> ProjectRecord:
        """Register a directory of this machine. Raises ProjectPathError or ProjectError."""
        ...

    async def add_remote(
        self, agent: str, check: Callable[[list[Path]], Awaitable[Path]], name: str | None
    ) -> ProjectRecord:
        """Register a directory on a remote agent. ``check`` gets the paths of the
        agent's other projects and returns the canonical path (the agent's own check),
        or raises ProjectPathError; checks of one store run one at a time."""
        ...

    async def remove(self, key: str) -> ProjectRecord:
        """Forget a project and its history (runs and events go with it)."""
        ...

    async def set_permission_mode(self, project_id: str, mode: str | None) -> ProjectRecord: ...

    async def set_session(self, project_id: str, session_id: str | None) -> ProjectRecord:
        """Remember the session the next run resumes (None: start a fresh one)."""
        ...

    async def set_back_channel(self, project_id: str, enabled: bool) -> ProjectRecord: ...


class RunStore(Protocol):
    """Runs, as they change state."""

    async def insert(self, run: RunRecord) -> None: ...

    async def save(self, run: RunRecord) -> None:
        """Store how the run stands now (its state, times, figures, session, error)."""
        ...

    async def unfinished(self) -> list[RunRecord]:
        """Queued and running runs, oldest first (what a previous instance left)."""
        ...

    async def of_project(
        self, project_id: str, limit: int, before: str | None = None
    ) -> list[RunRecord] | None:
        """The project's newest ``limit`` runs, newest first; with ``before`` (a run's
        id), those created before that run (None: the project has no run ``before``)."""
        ...

    async def costs_by_project(self) -> dict[str, float]:
        """What each project's runs have cost so far."""
        ...


class RuleStore(Protocol):
    """Remembered allow rules, per project. A request is described by the keys of the
    rules that would allow it (see :data:`~switchboard.store.records.RuleKey`)."""

    async def load(self) -> None: ...

    def of_project(self, project_id: str) -> list[PermissionRule]:
        """The project's rules, oldest first."""
        ...

    def match(self, project_id: str, keys: Sequence[RuleKey]) -> PermissionRule | None:
        """The rule for ``keys[0]`` if stored rules cover *every* key (allowing one part
        of a compound command must not allow the rest); else None."""
        ...

    async def remember(self, project_id: str, keys: Sequence[RuleKey]) -> list[PermissionRule]:
        """Store the rules for ``keys`` not stored yet; returns those."""
        ...

    async def remove(self, project_id: str, rule_id: str) -> PermissionRule | None: ...

    def forget_project(self, project_id: str) -> None:
        """The project is gone (its rules went with it)."""
        ...


class TokenStore(Protocol):
    """Scoped tokens; their secrets are kept only as hashes."""

    async def load(self) -> None: ...

    def all(self) -> list[ScopedToken]:
        """Every token, oldest first."""
        ...

    def find(self, secret: str) -> ScopedToken | None:
        """The token whose secret this is."""
        ...

    async def create(
        self, name: str, scope: str, projects: tuple[str, ...] | None
    ) -> tuple[ScopedToken, str]:
        """A new token and its secret (returned only here)."""
        ...

    def exists(self, token_id: str) -> bool: ...

    async def revoke(self, token_id: str) -> ScopedToken | None:
        """Forget the token at once (no request may use it from now on)."""
        ...


class RetentionStore(Protocol):
    """Each project's own retention policy, if it set one."""

    async def load(self) -> None: ...

    def of_project(self, project_id: str) -> RetentionPolicy | None: ...

    async def set(self, project_id: str, policy: RetentionPolicy) -> None:
        """Store the project's own policy (all fields None: it follows the server's)."""
        ...

    def forget_project(self, project_id: str) -> None:
        """The project was removed (its policy went with it)."""
        ...


class BudgetStore(Protocol):
    """Each project's own budgets, if it set any, and what projects spent (the ledger:
    their runs' own cost, by when each run finished)."""

    async def load(self) -> None: ...

    def of_project(self, project_id: str) -> BudgetLimits | None: ...

    async def set(self, project_id: str, limits: BudgetLimits) -> None:
        """Store the project's own limits (all fields None: it follows the server's)."""
        ...

    def forget_project(self, project_id: str) -> None:
        """The project was removed (its limits went with it)."""
        ...

    async def spent(self, start: float, end: float) -> dict[str, float]:
        """What each project's runs that finished in ``[start, end)`` cost."""
        ...


class ProcessTable(Protocol):
    """The CLI process groups each server instance started, so that the next instance
    can stop those a crash left behind. An instance named ``NODE/ID`` (a cluster's
    node) sees only the groups of instances of the same ``NODE``: the other nodes'
    processes are alive, and may be on other machines."""

    async def add(self, instance: str, process: Leftover, started_at: float) -> None:
        """Record a group ``instance`` started."""
        ...

    async def remove(self, instance: str, pgid: int) -> None:
        """The group ended: forget it."""
        ...

    async def of_others(self, instance: str) -> list[Leftover]:
        """The groups recorded by every instance but ``instance`` (of its node)."""
        ...

    async def remove_others(self, instance: str) -> None:
        """Forget the groups recorded by every instance but ``instance`` (of its node)."""
        ...


class BackChannelStore(Protocol):
    """Each project's task list, and the latest diagnostics published per file."""

    async def load(self) -> None: ...

    def tasks(self, project_id: str | None = None) -> list[TaskInfo]:
        """A project's tasks (None: every project's), oldest change first."""
        ...

    def task(self, project_id: str, task_id: str) -> TaskInfo | None: ...

    async def put_task(self, task: TaskInfo) -> None: ...

    async def remove_tasks(self, project_id: str, task_ids: Sequence[str]) -> None: ...

    def diagnostics(self, project_id: str) -> list[DiagnosticsInfo]:
        """The project's files with diagnostics, by path."""
        ...

    async def put_diagnostics(self, project_id: str, file: DiagnosticsInfo) -> None:
        """Replace one file's diagnostics (an empty list: the file has none now)."""
        ...

    def forget_project(self, project_id: str) -> None:
        """The project is gone (its rows went with it, by cascade)."""


class AuditStore(Protocol):
    """Who prompted, answered or changed what (bounded: the oldest entries go)."""

    async def append(
        self,
        by: str,
        token_id: str | None,
        action: str,
        project_id: str | None,
        detail: dict[str, Any],
    ) -> None: ...

    async def entries(
        self, project_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """The newest ``limit`` entries (of ``project_id``; older than id ``before``)."""
        ...


class PushStore(Protocol):
    """The browsers' push subscriptions, one per endpoint (kept in memory too)."""

    async def load(self) -> None: ...

    def all(self) -> list[PushSubscriptionRecord]: ...

    def find(self, endpoint: str) -> PushSubscriptionRecord | None: ...

    async def save(self, subscription: PushSubscriptionRecord) -> None:
        """Add it, or replace the one with its endpoint."""
        ...

    async def remove(self, endpoints: Iterable[str]) -> list[str]:
        """Drop these endpoints; returns those that were there."""
        ...


class LeaseStore(Protocol):
    """Which node of a cluster owns each project, and which nodes are alive: rows with
    an owner and an expiry that the owner renews. Expiry is judged by the database's
    clock, so nodes' clocks need not agree."""

    async def cluster_id(self) -> str:
        """The id the nodes sharing this store go by (made by the first to ask)."""
        ...

    async def heartbeat(self, node_id: str, ttl: float) -> list[str]:
        """Say that ``node_id`` is alive for ``ttl`` seconds more; the nodes alive now."""
        ...

    async def acquire(self, project_id: str, node_id: str, ttl: float) -> Lease | None:
        """Take (or keep) the project for ``ttl`` seconds: None if another node holds
        an unexpired lease on it. Of two nodes asking at once, one gets it."""
        ...

    async def renew(self, node_id: str, project_ids: list[str], ttl: float) -> list[str]:
        """Extend the leases of ``project_ids`` that ``node_id`` still holds; the ids
        of those projects (a lease it holds without knowing, an earlier instance's, is
        not renewed: the node takes it up, or lets it expire)."""
        ...

    async def release(self, project_id: str, node_id: str) -> None:
        """Give the project up, if ``node_id`` holds it."""
        ...

    async def leave(self, node_id: str) -> None:
        """The node stops: its leases and its row go (others take over at once)."""
        ...

    async def leases(self) -> list[Lease]:
        """Every project's lease, each marked expired or not."""
        ...


class CommitFeed(Protocol):
    """What the other nodes of a cluster append, as it commits: a doorbell carrying a
    project and the seq its log reached (the events are read from the log)."""

    def start(
        self,
        call_soon: Callable[..., object],
        on_commit: Callable[[str, int], None],
        on_resync: Callable[[], None],
    ) -> None:
        """Hear from now on, through ``call_soon`` (the event loop's thread-safe one);
        ``on_resync`` each time listening (re)starts: what rang meanwhile is lost."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Stores:
    """Every store the hub uses, and what it needs to end them."""

    events: EventLog
    projects: ProjectStore
    runs: RunStore
    rules: RuleStore
    tokens: TokenStore
    retention: RetentionStore
    budgets: BudgetStore
    processes: ProcessTable
    back_channel: BackChannelStore
    push: PushStore
    audit: AuditStore
    leases: LeaseStore
    close: Callable[[], None]
    """Finish the writes under way and release the database. Call once, at the end."""
    free_bytes: Callable[[], int | None]
    """Bytes free where the database keeps its files (None: not known, e.g. a server).
    It may block: call it off the event loop."""
    problems: Callable[[], list[str]]
    """Why the store cannot serve now (unreachable, its schema behind, its writes
    failing); empty when it can. It blocks: call it off the event loop."""
