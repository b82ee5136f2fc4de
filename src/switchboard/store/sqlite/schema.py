"""The schema, as SQLAlchemy Core tables: the one definition migrations are checked against."""

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("name", String(200), nullable=False),
    Column("session_id", String(64)),
    Column("epoch", Integer, nullable=False, server_default="1"),
    Column("created_at", Float, nullable=False),
    Column("permission_mode", String(32)),
    Column("agent", String(200), nullable=False, server_default=""),
    Column("back_channel", Boolean, nullable=False, server_default=true()),
    UniqueConstraint("agent", "path", name="uq_projects_agent_path"),
)
"""Registered projects. ``epoch`` changes only if the project's history is reset.
``agent``: the remote agent the project lives on, empty for this machine."""

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("options", Text, nullable=False, server_default="{}"),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("duration_ms", Integer),
    Column("num_turns", Integer),
    Column("cost_usd", Float),
    Column("usage", Text),
    Column("session_id", String(64)),
    Column("error", Text),
    Column("origin", String(16), nullable=False, server_default="client"),
    Column("by", String(200)),
    Index("ix_runs_project_state", "project_id", "state"),
    Index("ix_runs_finished", "finished_at"),
    Index("ix_runs_project_created", "project_id", "created_at", "id"),
)
"""Runs: queued, running, completed, failed, cancelled, interrupted. ``origin``: client
(a prompt) or claude (a follow-up turn the CLI started itself); ``by``: the name of the
token that sent the prompt."""

events = Table(
    "events",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("run_id", String(64)),
    Column("kind", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("project_id", "seq", name="pk_events"),
)
"""The event log: per project, ``seq`` is 1, 2, 3, … with no gap. ``body`` is JSON text,
stored as sent (CLI messages exactly as the CLI printed them)."""

project_retention = Table(
    "project_retention",
    metadata,
    Column(
        "project_id",
        String(64),
        ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("max_age_seconds", Float),
    Column("max_bytes", Integer),
)
"""A project's own retention policy (``project.retention``). A NULL field follows the
server's setting; 0 means no limit of that kind for this project."""

project_budgets = Table(
    "project_budgets",
    metadata,
    Column(
        "project_id",
        String(64),
        ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("daily_usd", Float),
    Column("run_usd", Float),
)
"""A project's own budgets in USD (``project.budget``). A NULL field follows the
server's default (``--budget-daily-usd``, ``--budget-run-usd``). What a project has
spent is not kept here: it is the sum of its runs' ``cost_usd`` by the UTC day they
finished (index ``ix_runs_finished``)."""

agent_processes = Table(
    "agent_processes",
    metadata,
    Column("pgid", Integer, nullable=False),
    Column("server_instance", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("start_ticks", Integer),
    Column("project_id", String(64)),
    Column("run_id", String(64)),
    Column("started_at", Float, nullable=False),
    Column("marker", String(128)),
    Column("cgroup", Text),
    PrimaryKeyConstraint("server_instance", "pgid", name="pk_agent_processes"),
)
"""CLI process groups a server instance started, so that the next instance can stop
those a crash left behind (``start_ticks``, from /proc, guards against PID reuse), with
the environment marker and cgroup that find the processes which left the group."""

resume_marks = Table(
    "resume_marks",
    metadata,
    Column(
        "project_id",
        String(64),
        ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("mark", Text, nullable=False),
    Column("run_id", String(64)),
)
"""How far the output of a project's process on a remote agent is stored: an opaque
mark from its driver, written in the same transaction as those events, from which a
hub restarted takes the process back; ``run_id``: the run whose turn began last."""

project_tasks = Table(
    "project_tasks",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("task_id", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
    PrimaryKeyConstraint("project_id", "task_id"),
)
"""Each project's task list (the back-channel): one row per task, its TaskInfo as JSON."""

project_diagnostics = Table(
    "project_diagnostics",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("path", Text, nullable=False),
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("project_id", "path"),
)
"""The latest diagnostics clients published, per file of a project (DiagnosticsInfo as
JSON); a file's row is replaced by the next publish."""

permission_rules = Table(
    "permission_rules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("tool_name", String(200), nullable=False),
    Column("rule_content", Text),
    Column("input", Text),
    Column("created_at", Float, nullable=False),
    Index("ix_permission_rules_project", "project_id"),
)
"""Allow rules a client asked to remember: the CLI's suggested rule (tool + rule
content), or, when it suggested none, the tool with its exact input (JSON)."""

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("projects", Text),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)
"""Scoped tokens: ``projects`` is a JSON list of project ids (NULL: every project);
the secret itself is never stored, only its SHA-256."""

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("by", String(200), nullable=False),
    Column("token_id", String(64)),
    Column("action", String(64), nullable=False),
    Column("project_id", String(64)),
    Column("detail", Text, nullable=False),
    Index("ix_audit_project", "project_id", "id"),
)
"""Who prompted, answered or changed what (``detail``: the request as JSON, shortened).
No foreign key: an entry outlives the project or token it names."""

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("endpoint", String(2048), primary_key=True),
    Column("p256dh", String(100), nullable=False),
    Column("auth", String(32), nullable=False),
    Column("token_id", String(64)),
    Column("created_at", Float, nullable=False),
)
"""Browsers' Web Push subscriptions (``token_id``: the token that subscribed, NULL for
the server's own). The server's VAPID key is a file in the data dir, not a row."""

cluster_meta = Table(
    "cluster_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
"""Facts the nodes of a cluster share, e.g. ``cluster_id``: the name their channels
(PostgreSQL's NOTIFY, Redis) go by, so that two clusters on one server never mix."""

cluster_nodes = Table(
    "cluster_nodes",
    metadata,
    Column("node_id", String(200), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Column("started_at", Float, nullable=False),
)
"""The nodes serving the store: each renews its row; one whose row expired is gone.
Times are the database's clock, so that nodes' clocks need not agree."""

project_leases = Table(
    "project_leases",
    metadata,
    Column(
        "project_id", String(64), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("node_id", String(200), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("term", Integer, nullable=False, server_default="1"),
)
"""Which node owns each project: the one node that runs its CLI and appends its events,
until ``expires_at`` (the database's clock) unless it renews. ``term`` grows by one
each time the project changes hands."""
