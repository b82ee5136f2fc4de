"""The stores on SQLAlchemy Core: SQLite in WAL mode by default (one file under the
data dir), any SQLAlchemy URL otherwise; Alembic manages the schema. Writes go through
one writer thread with group commit (:mod:`.writer`); reads run off the event loop."""

import os
from pathlib import Path

from sqlalchemy import Engine

from switchboard.store.ports import Stores
from switchboard.store.sqlite.audit import SqliteAuditStore
from switchboard.store.sqlite.back_channel import SqliteBackChannelStore
from switchboard.store.sqlite.budgets import SqliteBudgetStore
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.leases import SqlLeaseStore
from switchboard.store.sqlite.processes import SqliteProcessTable
from switchboard.store.sqlite.projects import SqliteProjectStore
from switchboard.store.sqlite.push import SqlitePushStore
from switchboard.store.sqlite.readiness import problems
from switchboard.store.sqlite.retention import SqliteRetentionStore
from switchboard.store.sqlite.rules import SqliteRuleStore
from switchboard.store.sqlite.runs import SqliteRunStore
from switchboard.store.sqlite.tokens import SqliteTokenStore
from switchboard.store.sqlite.writer import Writer
from switchboard.telemetry import Telemetry


def open_stores(
    engine: Engine,
    telemetry: Telemetry | None = None,
    doorbell: str | None = None,
    node_id: str | None = None,
) -> Stores:
    """Every store on ``engine`` (migrated already), sharing one writer thread (whose
    transactions ``telemetry`` times). :attr:`Stores.close` stops the writer, then
    disposes of the engine. On a cluster's node (``node_id``): ``doorbell``, the NOTIFY
    channel each append rings for the other nodes (:mod:`.doorbell`), and appends only
    while the node holds the project's lease."""
    writer = Writer(engine, telemetry.store_write_seconds.observe if telemetry else None)
    events = SqliteEventLog(engine, writer)
    events.doorbell, events.fence = doorbell, node_id
    runs = SqliteRunStore(engine, writer)
    runs.fence = node_id

    def close() -> None:
        writer.close()
        engine.dispose()

    return Stores(
        events=events,
        projects=SqliteProjectStore(engine, writer),
        runs=runs,
        rules=SqliteRuleStore(engine, writer),
        tokens=SqliteTokenStore(engine, writer),
        retention=SqliteRetentionStore(engine, writer),
        budgets=SqliteBudgetStore(engine, writer),
        processes=SqliteProcessTable(engine, writer),
        back_channel=SqliteBackChannelStore(engine, writer),
        push=SqlitePushStore(engine, writer),
        audit=SqliteAuditStore(engine, writer),
        leases=SqlLeaseStore(engine, writer),
        close=close,
        free_bytes=lambda: free_bytes(engine),
        problems=lambda: problems(engine, writer),
    )


def free_bytes(engine: Engine) -> int | None:
    """Bytes free for the database's files, if it is a file (SQLite)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    stats = os.statvfs(Path(engine.url.database).parent)
    return stats.f_bavail * stats.f_frsize
