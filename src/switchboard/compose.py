"""The composition root: the server's parts, built from its settings and wired together.

The only module outside ``agents/`` that knows which agent CLI runs (the Claude Code
CLI's driver) and which store holds the data (SQLite): everything else works with the
seams (:mod:`switchboard.agents.base`, :mod:`switchboard.store.ports`). It opens the
database (creating or migrating it), the hub, and serves (``switchboard serve``).
"""

import asyncio
import fcntl
import os
import socket
from pathlib import Path

from sqlalchemy import Engine

from switchboard import __version__, demo, log_format
from switchboard.agents.base import AgentDriver
from switchboard.agents.claude.driver import ClaudeDriver, ClaudeSettings
from switchboard.config import Settings
from switchboard.exceptions import ConfigError, StoreError
from switchboard.hub.cluster import ClusterPorts
from switchboard.hub.fanout import LocalBroadcaster
from switchboard.hub.hub import Hub
from switchboard.hub.limits import HubLimits
from switchboard.hub.notifications.service import NotifySettings
from switchboard.hub.notifications.vapid import VapidKeys, load_or_create_vapid
from switchboard.hub.parts import HubParts
from switchboard.hub.session_services import SessionSettings
from switchboard.server.banner import banner_lines
from switchboard.server.runner import (
    bind_socket,
    build_server,
    raise_open_files,
    record_early_signals,
    server_url,
)
from switchboard.server_record import server_recorded
from switchboard.store.records import BudgetLimits, RetentionPolicy
from switchboard.store.sqlite import open_stores
from switchboard.store.sqlite.claim import Release, claim_database
from switchboard.store.sqlite.database import open_engine, sqlite_url
from switchboard.store.sqlite.doorbell import CommitListener, channel_name
from switchboard.store.sqlite.leases import read_cluster_id
from switchboard.store.sqlite.migrate import upgrade
from switchboard.telemetry import Telemetry
from switchboard.token_store import load_or_create_token

LOCK_FILE = "server.lock"


def lock_data_dir(data_dir: Path) -> int:
    """Claim the data dir until the returned descriptor is closed (the kernel frees the
    lock when the process exits, even after SIGKILL). Two servers on one data dir would
    number events twice and stop each other's CLI processes."""
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(f"another Switchboard server is using {data_dir}") from None
    return fd


def claim(engine: Engine, node_id: str | None = None) -> Release:
    """Claim the database for this server, or for this node of a cluster (see
    :mod:`switchboard.store.sqlite.claim`)."""
    try:
        return claim_database(engine, node_id)
    except StoreError as exc:
        raise ConfigError(str(exc)) from None


def cluster_ports(settings: Settings, engine: Engine, cluster_id: str) -> ClusterPorts:
    """What this node of a cluster needs: the Redis link, the store's doorbell."""
    from switchboard.cluster.redis_link import RedisLink  # noqa: PLC0415 (switchboard[cluster])

    assert settings.node_id is not None
    assert settings.redis_url is not None
    return ClusterPorts(
        node_id=settings.node_id,
        lease_seconds=settings.lease_seconds,
        link=RedisLink(settings.redis_url, settings.node_id, cluster_id),
        commits=CommitListener(engine, channel_name(cluster_id)),
    )


def claude_driver(settings: Settings, *, partial_messages: bool | None = None) -> ClaudeDriver:
    """The Claude Code CLI's driver, run as the settings say (``partial_messages``:
    token deltas, by default as ``--partial-messages`` says)."""
    env = os.environ if settings.claude_env is None else settings.claude_env
    return ClaudeDriver(
        ClaudeSettings(
            claude_bin=settings.claude_bin,
            env=dict(env),
            max_line_bytes=settings.max_line_bytes,
            partial_messages=(
                settings.partial_messages if partial_messages is None else partial_messages
            ),
        )
    )


def ws_claude_driver(settings: Settings) -> AgentDriver:
    """The driver of ``/ws/claude``: the CLI's stream-json as it comes, no token deltas."""
    return claude_driver(settings, partial_messages=False)


def session_settings(settings: Settings) -> SessionSettings:
    """How the hub's sessions run their agents, as the settings say."""
    return SessionSettings(
        kill_grace=settings.kill_grace,
        interrupt_grace=settings.interrupt_grace,
        idle_timeout=settings.idle_timeout,
        background_timeout=settings.background_timeout,
        process_containment=settings.process_containment,
    )


def hub_limits(settings: Settings) -> HubLimits:
    """The hub's limits, as the settings say (the defaults live in Settings alone)."""
    return HubLimits(
        max_concurrent_runs=settings.max_concurrent_runs,
        max_queued_runs=settings.max_queued_runs,
        run_timeout=settings.run_timeout,
        allowed_roots=settings.allowed_roots,
        permission_timeout=settings.permission_timeout,
        question_timeout=settings.question_timeout,
        plan_timeout=settings.plan_timeout,
        allow_bypass_permissions=settings.allow_bypass_permissions,
        on_confirmation=settings.on_confirmation,
        on_notification=settings.on_notification,
        retention=RetentionPolicy(settings.retention_max_age, settings.retention_max_bytes),
        retention_interval=settings.retention_interval,
        min_free_disk=settings.min_free_disk,
        agent_link_grace=settings.agent_link_grace,
        budgets=BudgetLimits(settings.budget_daily_usd, settings.budget_run_usd),
    )


def notify_settings(settings: Settings, vapid: VapidKeys | None) -> NotifySettings:
    """Web Push (signed with ``vapid``) and ``--notify-url``, as the settings say."""
    return NotifySettings(
        idle_seconds=settings.push_idle_seconds,
        vapid=vapid,
        contact=settings.push_contact,
        max_subscriptions=settings.push_max_subscriptions,
        allow_http=settings.push_allow_http,
        timeout=settings.notify_timeout,
        notify_url=settings.notify_url,
        notify_format="ntfy" if settings.notify_format == "ntfy" else "json",
    )


async def open_hub(settings: Settings, agents: AgentDriver | None = None) -> Hub:
    """Open (creating or migrating) the database under the data dir and start a hub
    whose projects run on ``agents`` (by default, the Claude Code CLI)."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = lock_data_dir(settings.data_dir)
    release_database: Release = lambda: None  # noqa: E731
    try:
        engine = open_engine(settings.database_url or sqlite_url(settings.data_dir))
        release_database = await asyncio.to_thread(claim, engine, settings.node_id)
        await asyncio.to_thread(upgrade, engine)
        vapid, _ = load_or_create_vapid(settings.data_dir)  # Web Push's key, made once
    except BaseException:
        release_database()
        os.close(lock)
        raise
    agents = agents if agents is not None else claude_driver(settings)
    telemetry = Telemetry()  # this server's metrics: the stores and the hub feed them
    cluster = None
    if settings.node_id is not None:
        cluster_id = await asyncio.to_thread(read_cluster_id, engine)
        channel = channel_name(cluster_id)
        stores = open_stores(engine, telemetry, doorbell=channel, node_id=settings.node_id)
        cluster = cluster_ports(settings, engine, cluster_id)
    else:
        stores = open_stores(engine, telemetry)
    broadcaster = LocalBroadcaster(stores.events.head, telemetry.tallies)
    parts = HubParts(
        stores,
        broadcaster,
        agents,
        session_settings(settings),
        hub_limits(settings),
        telemetry=telemetry,
        notify=notify_settings(settings, vapid),
        cluster=cluster,
    )
    hub = Hub(parts)
    hub.on_closed.append(release_database)
    hub.on_closed.append(lambda: os.close(lock))
    try:
        await hub.start()
    except BaseException:
        await hub.close()  # releases the lock too
        raise
    return hub


def serve(settings: Settings) -> int:
    """Run until a signal asks us to stop. Returns the process exit code."""
    early_signals = record_early_signals()
    log_format.configure(settings.log_level, settings.log_format)
    raise_open_files(settings)
    token, created = load_or_create_token(settings.data_dir, settings.token)
    sock = bind_socket(settings.host, settings.port)
    with demo.demo_mode(settings) as running:  # --demo: the scripted model runs meanwhile
        asyncio.run(_serve(running, token, created, sock, early_signals))
    return 0


async def _serve(
    settings: Settings, token: str, created: bool, sock: socket.socket, early_signals: list[int]
) -> None:
    """Open the hub (database, recovery), then serve until shut down."""
    hub = await open_hub(settings)
    await demo.register_project(hub, settings)
    server = build_server(settings, token, hub, ws_claude_driver(settings), early_signals)
    url = server_url(settings.host, sock.getsockname()[1])
    print(f"Switchboard {__version__} listening on {url}", flush=True)
    for line in banner_lines(settings, url, token, created):
        print(line, flush=True)
    for line in demo.banner(settings):
        print(line, flush=True)
    with server_recorded(settings.data_dir, url):  # for client commands
        await server.serve(sockets=[sock])
