"""Settings of ``switchboard serve``: one table feeds the flags, the environment and the docs.

Every option ``--some-name`` can also be given as ``SWITCHBOARD_SOME_NAME``. A flag
beats the environment, which beats the default. List options take a repeated flag or a
comma-separated environment value.
"""

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from switchboard import config_values as values
from switchboard.exceptions import ConfigError
from switchboard.log_format import LogFormat


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/switchboard``, else ``~/.local/share/switchboard``."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "switchboard"


def home_directory(environ: Mapping[str, str]) -> Path:
    """``$HOME``, else the user's home as the system knows it: the default allowed root."""
    return Path(environ.get("HOME") or Path.home())


DEMO_PROJECT_DIR = "demo-project"
"""The ``--demo`` project's directory, under the data dir."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 9876
    data_dir: Path = Path()
    database_url: str | None = None
    """The store's SQLAlchemy URL; None: SQLite, ``switchboard.db`` in the data dir."""
    node_id: str | None = None
    """This server's id as one node of a cluster; None: the only server of its store."""
    redis_url: str | None = None
    """A cluster's Redis (deltas, status and forwarded requests between nodes)."""
    lease_seconds: float = 10.0
    """How long a node owns its projects without renewing (failover takes this long)."""
    token: str | None = None
    metrics_token: str | None = None
    """A second token that opens GET /metrics and nothing else; None: only the token."""
    claude_bin: str | None = None
    run_timeout: float = 300.0
    prompt_timeout: float = 60.0
    workdir: Path = Path()
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    max_message_bytes: int = 1024 * 1024
    max_line_bytes: int = 16 * 1024 * 1024
    kill_grace: float = 0.5
    process_containment: str = "auto"
    log_level: str = "info"
    log_format: LogFormat = "text"
    max_concurrent_runs: int = 4
    max_queued_runs: int = 16
    idle_timeout: float = 300.0
    background_timeout: float = 3600.0
    interrupt_grace: float = 5.0
    allowed_roots: tuple[Path, ...] = field(default_factory=lambda: (home_directory(os.environ),))
    """Directories projects must be, or lie under; empty: any but the refused ones."""
    subscriber_queue_bytes: int = 4 * 1024 * 1024
    request_rate: float = 100.0
    request_burst: int = 500
    max_claude_runs: int = 4
    claude_queue_timeout: float = 30.0
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    handshake_timeout: float = 10.0
    max_connections: int = 4096
    max_connections_per_client: int = 2048
    partial_messages: bool = True
    ws_compression: bool = False
    permission_timeout: float = 600.0
    question_timeout: float = 600.0
    plan_timeout: float = 600.0
    allow_bypass_permissions: bool = False
    on_confirmation: tuple[str, ...] = ()
    on_notification: tuple[str, ...] = ()
    push_idle_seconds: float = 60.0
    push_max_subscriptions: int = 50
    push_allow_http: bool = False
    push_contact: str = "mailto:switchboard@localhost"
    notify_url: str | None = None
    notify_format: str = "json"
    notify_timeout: float = 10.0
    retention_max_age: float | None = None
    """Seconds an event is kept in its project's log; None: no age limit."""
    retention_max_bytes: int | None = None
    """Characters of JSON a project's log keeps, newest first; None: no size limit."""
    retention_interval: float = 600.0
    budget_daily_usd: float | None = None
    """What each project's runs may cost per UTC day, in USD; None: no limit."""
    budget_run_usd: float | None = None
    """What one run may cost, in USD; None: no limit."""
    min_free_disk: int = 64 * 1024 * 1024
    agent_heartbeat_interval: float = 10.0
    agent_heartbeat_timeout: float = 30.0
    agent_link_grace: float = 300.0
    demo: bool = False
    claude_env: Mapping[str, str] | None = None
    """The environment CLI runs get (before Switchboard's own changes); None: the server's.
    Not an option: ``--demo`` sets it to point the CLI at its scripted model."""


_DEST_TO_FIELD = {
    "allowed_origin": "allowed_origins",
    "allowed_host": "allowed_hosts",
    "allowed_root": "allowed_roots",
}


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag, its environment variable, how to parse it, what it means."""

    name: str
    parse: Callable[[str], Any]
    help: str
    multiple: bool = False
    switch: bool = False
    """A flag without a value (``--demo`` means true); its variable still takes one."""
    secret: bool = False
    """Its value may hold a password: an error about it never quotes it."""

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def env_var(self) -> str:
        return "SWITCHBOARD_" + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def field(self) -> str:
        """The :class:`Settings` field it sets."""
        return _DEST_TO_FIELD.get(self.dest, self.dest)

    def described(self) -> str:
        """The help text with the default, taken from :class:`Settings` (a help text
        that says "Default" itself describes one the code works out: a path, $HOME)."""
        if "Default" in self.help:
            return self.help
        return f"{self.help} Default {show_default(self.field)}."


def show_default(field: str) -> str:
    """A :class:`Settings` field's default as a person would write it."""
    value = Settings.__dataclass_fields__[field].default
    if isinstance(value, bool):
        return str(value).lower()
    if value is None or value == ():
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


SERVE_OPTIONS: tuple[Option, ...] = (
    Option("host", str, "Address to bind; the default serves this machine only."),
    Option("port", values.port, "Port to listen on; 0 picks a free port."),
    Option(
        "data-dir",
        Path,
        "Where the token and state live. Default "
        "$XDG_DATA_HOME/switchboard or ~/.local/share/switchboard.",
    ),
    Option(
        "database-url",
        values.database_url,
        "Where the store lives: a PostgreSQL URL (postgresql+psycopg://USER@HOST/DB; "
        "needs switchboard[postgresql]) or sqlite:///PATH; none: SQLite, "
        "DATA_DIR/switchboard.db. A password in it is visible in 'ps': prefer "
        "SWITCHBOARD_DATABASE_URL or a ~/.pgpass file.",
        secret=True,
    ),
    Option(
        "node-id",
        values.node_id,
        "Run as this node of a cluster: several nodes share one PostgreSQL store "
        "(--database-url) and one Redis (--redis-url), each project owned by one node at "
        "a time (needs switchboard[cluster]; see docs/scaling.md).",
    ),
    Option(
        "redis-url",
        values.redis_url,
        "A cluster's Redis (redis://HOST:PORT/DB, rediss:// for TLS): token deltas, "
        "project status and forwarded requests between the nodes. Needs --node-id.",
        secret=True,
    ),
    Option(
        "lease-seconds",
        values.positive_float,
        "How long a cluster's node owns its projects without renewing their leases (it "
        "renews every third of it): when a node dies, others take its projects over "
        "after this long.",
    ),
    Option(
        "token",
        str,
        "API token clients must present. Default: generated at first "
        "start and stored in DATA_DIR/token (mode 0600). A token given here is visible "
        "to every local user in 'ps': prefer the token file or SWITCHBOARD_TOKEN.",
    ),
    Option(
        "metrics-token",
        values.secret,
        "A token that opens GET /metrics and nothing else (for a Prometheus scraper); "
        "the API token opens it too. Visible in 'ps' like --token: prefer "
        "SWITCHBOARD_METRICS_TOKEN.",
    ),
    Option(
        "claude-bin",
        str,
        "Claude Code CLI to run. Default: SWITCHBOARD_CLAUDE_BIN, "
        "then 'claude' on PATH, then the binary bundled with claude-agent-sdk.",
    ),
    Option(
        "run-timeout",
        values.positive_float,
        "Seconds a run may take before its process group is killed.",
    ),
    Option(
        "prompt-timeout",
        values.positive_float,
        "Seconds a /ws/claude connection may wait before sending its prompt.",
    ),
    Option(
        "workdir",
        Path,
        "Working directory of /ws/claude runs. Default: the directory the server was started in.",
    ),
    Option(
        "allowed-origin",
        str,
        "Extra WebSocket Origin allowed besides same-origin (repeatable; '*' allows any).",
        multiple=True,
    ),
    Option(
        "allowed-host",
        str,
        "Extra Host header name accepted besides the bind "
        "address and loopback names (repeatable; '*' disables the check).",
        multiple=True,
    ),
    Option(
        "max-message-bytes",
        values.positive_int,
        "Largest WebSocket message accepted from a client.",
    ),
    Option(
        "max-line-bytes",
        values.positive_int,
        "Longest CLI output line passed on; longer lines are reported as errors.",
    ),
    Option(
        "kill-grace",
        values.positive_float,
        "Seconds between SIGTERM and SIGKILL when a run's process group is stopped.",
    ),
    Option(
        "process-containment",
        values.containment,
        "How every process a CLI starts is found and stopped, setsid() or not: 'cgroup' "
        "(a cgroup v2 per CLI; refuse to start without one), 'marker' (an environment "
        "variable, read in /proc), or 'auto' (cgroup where possible).",
    ),
    Option("log-level", values.log_level, "debug, info, warning or error."),
    Option(
        "log-format",
        values.log_format,
        "text (one line per entry), or json: one JSON object per line, with the project, "
        "run and connection it is about where known.",
    ),
    Option(
        "max-concurrent-runs",
        values.positive_int,
        "Runs executing at once across all projects (one per project at most).",
    ),
    Option(
        "max-queued-runs",
        values.positive_int,
        "Runs waiting in one project's queue; more prompts get 'queue_full'.",
    ),
    Option(
        "idle-timeout",
        values.positive_float,
        "Seconds a project's CLI process stays up without a run.",
    ),
    Option(
        "background-timeout",
        values.positive_float,
        "Seconds a project's CLI process is kept without a run while it reports background "
        "work (commands, agents, wake-ups) that would die with it.",
    ),
    Option(
        "interrupt-grace",
        values.positive_float,
        "Seconds a cancelled run's CLI gets to stop its turn before its group is killed.",
    ),
    Option(
        "allowed-root",
        Path,
        "Directory projects must be or lie under (repeatable). Default: $HOME. "
        "'/' allows any directory but /, and /etc, /proc, /sys, /dev, /boot and what "
        "lies under them, which are always refused.",
        multiple=True,
    ),
    Option(
        "subscriber-queue-bytes",
        values.positive_int,
        "Bytes queued for one /ws client before it is closed as a slow consumer (4008).",
    ),
    Option(
        "request-rate",
        values.positive_float,
        "Requests a second one /ws connection may send on average; more get the error "
        "'rate_limited'.",
    ),
    Option(
        "request-burst",
        values.positive_int,
        "Requests one /ws connection may send at once before --request-rate applies. "
        "A client that goes on sending after being refused is closed (4029).",
    ),
    Option(
        "max-claude-runs",
        values.positive_int,
        "/ws/claude runs (CLI processes) at once; a prompt beyond it waits for a free slot.",
    ),
    Option(
        "claude-queue-timeout",
        values.positive_float,
        "Seconds a /ws/claude prompt waits for a free slot before it is refused with "
        "close 1013 (try again later).",
    ),
    Option(
        "ping-interval",
        values.positive_float,
        "Seconds between WebSocket pings to each client.",
    ),
    Option(
        "ping-timeout",
        values.positive_float,
        "Seconds a client may take to answer a ping before it is dropped.",
    ),
    Option(
        "handshake-timeout",
        values.positive_float,
        "Seconds a connection gets to send a whole request (an HTTP request, a WebSocket "
        "upgrade) after it is accepted or its previous response ends; then it is closed.",
    ),
    Option(
        "max-connections",
        values.positive_int,
        "Open connections at once, counted from accept. At the cap a new connection "
        "closes the oldest one that has not presented a token; if all have, it gets "
        "HTTP 503.",
    ),
    Option(
        "max-connections-per-client",
        values.positive_int,
        "The same cap for the connections of one client address (on 127.0.0.1, every "
        "local client shares it).",
    ),
    Option(
        "partial-messages",
        values.boolean,
        "Stream token deltas live to /ws subscribers (never stored).",
    ),
    Option(
        "ws-compression",
        values.boolean,
        "Offer permessage-deflate to WebSocket clients: less bandwidth, but every frame "
        "is compressed once per client.",
    ),
    Option(
        "permission-timeout",
        values.positive_float,
        "Seconds a tool-permission confirmation waits for an answer before it is denied.",
    ),
    Option(
        "question-timeout",
        values.positive_float,
        "Seconds a question (AskUserQuestion) waits for an answer.",
    ),
    Option(
        "plan-timeout",
        values.positive_float,
        "Seconds a plan approval (ExitPlanMode) waits for an answer.",
    ),
    Option(
        "allow-bypass-permissions",
        values.boolean,
        "Let prompts ask for permission_mode bypassPermissions (tools run without any "
        "confirmation); when off, such prompts are refused.",
    ),
    Option(
        "on-confirmation",
        values.command,
        "Command run (no shell) for every new confirmation, its JSON on stdin: for desktop "
        "notifications or sounds. Failures are logged, never block.",
    ),
    Option(
        "on-notification",
        values.command,
        "Command run (no shell) for every notification Claude sends (the back-channel's "
        "notify_user), its JSON on stdin. Failures are logged, never block.",
    ),
    Option(
        "push-idle-seconds",
        values.positive_float,
        "Alerts (Web Push, --notify-url) go out for a project no client has shown for "
        "this long: clients report what they show (presence), and a report counts this "
        "many seconds.",
    ),
    Option(
        "push-max-subscriptions",
        values.positive_int,
        "Browsers that may subscribe to Web Push at once; more get 'limit_reached'.",
    ),
    Option(
        "push-allow-http",
        values.boolean,
        "Accept push endpoints that are http, an IP address or localhost (a push service "
        "on this machine, or in tests); off: https on a host name only.",
        switch=True,
    ),
    Option(
        "push-contact",
        values.push_contact,
        "Who runs this server, for push services (the VAPID 'sub'): a mailto: address or "
        "an https:// URL.",
    ),
    Option(
        "notify-url",
        values.http_url,
        "POST every alert (confirmations, questions, runs' ends, while no client shows "
        "the project) to this URL: JSON, or ntfy's shape with --notify-format ntfy.",
    ),
    Option(
        "notify-format",
        values.notify_format,
        "json (the alert as JSON) or ntfy (text body, Title/Priority/Tags headers).",
    ),
    Option(
        "notify-timeout",
        values.positive_float,
        "Seconds one push or --notify-url POST may take (connecting, and each read).",
    ),
    Option(
        "retention-max-age",
        values.duration,
        "Delete events older than this from every project's log (seconds, or e.g. 30d, "
        "12h); a project's own policy (project.retention) overrides it.",
    ),
    Option(
        "retention-max-bytes",
        values.size,
        "Keep at most this much of each project's log, newest first (characters of JSON; "
        "e.g. 500M); a project's own policy overrides it.",
    ),
    Option(
        "retention-interval",
        values.positive_float,
        "Seconds between passes that trim the logs to their retention policies.",
    ),
    Option(
        "budget-daily-usd",
        values.usd,
        "What each project's runs may cost per UTC day, in USD (their own cost, counted "
        "on the day each run ends); once reached, prompts are refused (budget_exceeded). "
        "A project's own budget (project.budget) overrides it.",
    ),
    Option(
        "budget-run-usd",
        values.usd,
        "What one run may cost, in USD; a run that passes it is stopped (interrupted, "
        "budget_exceeded). A project's own budget (project.budget) overrides it.",
    ),
    Option(
        "min-free-disk",
        values.size,
        "After a project's log could not be written (disk full), its runs wait until the "
        "data dir has this much free space (bytes, or e.g. 64M).",
    ),
    Option(
        "agent-heartbeat-interval",
        values.positive_float,
        "Seconds between heartbeats on a remote agent's link (/ws/agent), both ways.",
    ),
    Option(
        "agent-heartbeat-timeout",
        values.positive_float,
        "Seconds without a word from a remote agent before its link is closed (4010) and "
        "the agent shown offline; it dials again.",
    ),
    Option(
        "agent-link-grace",
        values.positive_float,
        "Seconds a run on a remote agent goes on while the agent's link is down (its "
        "output waits in the agent's spool); then the agent stops it and the run fails.",
    ),
    Option(
        "demo",
        values.boolean,
        "Offline demo: run the CLI against a built-in scripted model, with its own data "
        "dir (default $XDG_DATA_HOME/switchboard-demo) and a project named 'demo'.",
        switch=True,
    ),
)


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    """Register ``options`` on ``parser``; values are parsed later by :func:`resolve`."""
    for option in options:
        described = f"{option.described()} [env: {option.env_var}]"
        if option.switch:
            parser.add_argument(
                option.flag, dest=option.dest, action="store_const", const="true", help=described
            )
            continue
        parser.add_argument(
            option.flag,
            dest=option.dest,
            action="append" if option.multiple else "store",
            default=None,
            help=described,
        )


def _parse(option: Option, origin: str, text: str) -> Any:
    try:
        return option.parse(text)
    except ValueError as exc:
        quoted = "" if option.secret else f" {text!r}"
        raise ConfigError(f"{origin}: invalid value{quoted} ({exc})") from None


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Combine flags, environment and defaults into :class:`Settings`."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in SERVE_OPTIONS:
        given = getattr(args, option.dest, None)
        if given is not None:
            raw: list[str] = given if option.multiple else [given]
            origin = option.flag
        elif env.get(option.env_var):
            text = env[option.env_var]
            raw = [p.strip() for p in text.split(",") if p.strip()] if option.multiple else [text]
            origin = option.env_var
        else:
            continue
        parsed = [_parse(option, origin, item) for item in raw]
        values[option.field] = tuple(parsed) if option.multiple else parsed[0]
    if values.get("demo"):  # its own state, and /ws/claude runs in its project
        values.setdefault("data_dir", default_data_dir(env).with_name("switchboard-demo"))
        values.setdefault("workdir", values["data_dir"] / DEMO_PROJECT_DIR)
    values.setdefault("data_dir", default_data_dir(env))
    values.setdefault("workdir", Path.cwd())
    values.setdefault("allowed_roots", (home_directory(env),))
    known = {f.name for f in fields(Settings)}
    settings = Settings(**{k: v for k, v in values.items() if k in known})
    check_cluster(settings)
    return settings


def check_cluster(settings: Settings) -> None:
    """A cluster's node needs a PostgreSQL store and a Redis; either alone is no node."""
    if settings.node_id is None:
        if settings.redis_url is not None:
            raise ConfigError("--redis-url is for a cluster's nodes: give --node-id too")
        return
    database = settings.database_url or ""
    if not database.startswith("postgresql"):
        raise ConfigError(
            "--node-id: the nodes of a cluster share a PostgreSQL store; give --database-url"
        )
    if settings.redis_url is None:
        raise ConfigError("--node-id: the nodes of a cluster talk through Redis; give --redis-url")
