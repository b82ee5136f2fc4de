"""Build a :class:`Hub` from the server's settings: database, migrations, limits."""

import asyncio
import os

from switchboard.config import Settings
from switchboard.hub.hub import Hub, HubLimits
from switchboard.hub.session import SessionSettings
from switchboard.store.database import open_engine, sqlite_url
from switchboard.store.migrate import upgrade


async def open_hub(settings: Settings) -> Hub:
    """Open (creating or migrating) the database under the data dir and start a hub."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(sqlite_url(settings.data_dir))
    await asyncio.to_thread(upgrade, engine)
    session_settings = SessionSettings(
        claude_bin=settings.claude_bin,
        env=dict(os.environ),
        max_line_bytes=settings.max_line_bytes,
        kill_grace=settings.kill_grace,
        interrupt_grace=settings.interrupt_grace,
        idle_timeout=settings.idle_timeout,
        partial_messages=settings.partial_messages,
    )
    limits = HubLimits(
        max_concurrent_runs=settings.max_concurrent_runs,
        max_queued_runs=settings.max_queued_runs,
        run_timeout=settings.run_timeout,
        allowed_roots=settings.allowed_roots,
    )
    hub = Hub(engine, session_settings, limits)
    await hub.start()
    return hub
