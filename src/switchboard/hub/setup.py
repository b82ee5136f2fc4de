"""Build a :class:`Hub` from the server's settings: database, migrations, limits."""

import asyncio
import fcntl
import os
from pathlib import Path

from switchboard.config import Settings
from switchboard.exceptions import ConfigError
from switchboard.hub.hub import Hub, HubLimits
from switchboard.hub.session import SessionSettings
from switchboard.store.database import open_engine, sqlite_url
from switchboard.store.migrate import upgrade
from switchboard.store.retention import RetentionPolicy

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


async def open_hub(settings: Settings) -> Hub:
    """Open (creating or migrating) the database under the data dir and start a hub."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = lock_data_dir(settings.data_dir)
    try:
        engine = open_engine(sqlite_url(settings.data_dir))
        await asyncio.to_thread(upgrade, engine)
    except BaseException:
        os.close(lock)
        raise
    session_settings = SessionSettings(
        claude_bin=settings.claude_bin,
        env=dict(os.environ if settings.claude_env is None else settings.claude_env),
        max_line_bytes=settings.max_line_bytes,
        kill_grace=settings.kill_grace,
        interrupt_grace=settings.interrupt_grace,
        idle_timeout=settings.idle_timeout,
        background_timeout=settings.background_timeout,
        partial_messages=settings.partial_messages,
        process_containment=settings.process_containment,
    )
    limits = HubLimits(
        max_concurrent_runs=settings.max_concurrent_runs,
        max_queued_runs=settings.max_queued_runs,
        run_timeout=settings.run_timeout,
        allowed_roots=settings.allowed_roots,
        permission_timeout=settings.permission_timeout,
        question_timeout=settings.question_timeout,
        plan_timeout=settings.plan_timeout,
        allow_bypass_permissions=settings.allow_bypass_permissions,
        on_confirmation=settings.on_confirmation,
        retention=RetentionPolicy(settings.retention_max_age, settings.retention_max_bytes),
        retention_interval=settings.retention_interval,
        min_free_disk=settings.min_free_disk,
    )
    hub = Hub(engine, session_settings, limits)
    hub.on_closed.append(lambda: os.close(lock))
    try:
        await hub.start()
    except BaseException:
        await hub.close()  # releases the lock too
        raise
    return hub
