"""The hub's limits: its share of the server's settings."""

from dataclasses import dataclass, field
from pathlib import Path

from switchboard.store.records import BudgetLimits, RetentionPolicy


@dataclass(frozen=True, slots=True)
class HubLimits:
    """The hub's share of the server's settings (:class:`switchboard.config.Settings`
    holds the defaults; the composition root fills this in)."""

    max_concurrent_runs: int
    max_queued_runs: int
    run_timeout: float
    allowed_roots: tuple[Path, ...]
    permission_timeout: float
    question_timeout: float
    plan_timeout: float
    allow_bypass_permissions: bool
    on_confirmation: tuple[str, ...]
    on_notification: tuple[str, ...]
    retention: RetentionPolicy
    """The server's retention policy (``--retention-max-age``, ``--retention-max-bytes``)."""
    retention_interval: float
    min_free_disk: int
    """After a project's log refused a write, its runs wait for this much free space."""
    agent_link_grace: float
    """How long a run on a remote agent goes on while the agent's link is down."""
    budgets: BudgetLimits = field(default_factory=BudgetLimits)
    """The server's default budgets (``--budget-daily-usd``, ``--budget-run-usd``)."""
