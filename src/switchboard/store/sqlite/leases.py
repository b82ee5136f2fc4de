"""Project leases and node heartbeats (tables ``project_leases``, ``cluster_nodes``,
``cluster_meta``): which node of a cluster owns each project.

Every expiry is computed and judged by the database's clock, in one statement each,
so two nodes never both believe they hold a lease because their clocks differ. Taking
a lease is a single upsert whose update applies only when the lease is the caller's or
has expired: of two nodes asking at once, the database lets one through.
"""

import asyncio
import uuid

from sqlalchemy import Engine, Float, bindparam, case, delete, literal_column, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from switchboard.exceptions import LeaseLost
from switchboard.store.records import Lease
from switchboard.store.sqlite.schema import cluster_meta, cluster_nodes, project_leases
from switchboard.store.sqlite.writer import Writer

_NOW = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS DOUBLE PRECISION)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
"""The database's time in seconds since the epoch, per dialect."""


def read_cluster_id(engine: Engine) -> str:
    """The cluster's id, made by the first node that asks. It blocks: call it off the
    event loop (at start, before the writer thread runs)."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    making = insert(cluster_meta).values(key="cluster_id", value=uuid.uuid4().hex)
    with engine.begin() as connection:
        connection.execute(making.on_conflict_do_nothing(index_elements=[cluster_meta.c.key]))
        query = select(cluster_meta.c.value).where(cluster_meta.c.key == "cluster_id")
        return str(connection.execute(query).scalar())


class LeaseCheck:
    """Whether a node holds a project's unexpired lease, asked inside a transaction:
    the fence of a cluster's appends (a node whose lease ran out appends nothing)."""

    def __init__(self, engine: Engine) -> None:
        postgres = engine.dialect.name == "postgresql"
        now = literal_column(_NOW["postgresql" if postgres else "sqlite"], Float)
        leases = project_leases.c
        self._query = (
            select(leases.project_id)
            .where(
                leases.project_id == bindparam("project"),
                leases.node_id == bindparam("node"),
                leases.expires_at > now,
            )
            .with_for_update(read=True)  # PostgreSQL: no takeover until this commits
        )

    def __call__(self, connection: Connection, project_id: str, node_id: str) -> bool:
        found = connection.execute(self._query, {"project": project_id, "node": node_id})
        return found.first() is not None

    def require(self, connection: Connection, project_id: str, node_id: str | None) -> None:
        """Raise :class:`LeaseLost` unless ``node_id`` (if any) holds the lease."""
        if node_id is not None and not self(connection, project_id, node_id):
            raise LeaseLost(f"refused a write for {project_id}: node {node_id} lost its lease")


class SqlLeaseStore:
    """Leases through the writer thread; reads off the event loop."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        postgres = engine.dialect.name == "postgresql"
        self._insert = postgresql.insert if postgres else sqlite.insert
        now = literal_column(_NOW["postgresql" if postgres else "sqlite"], Float)
        ttl = bindparam("ttl", type_=Float)
        leases = project_leases.c
        taking = self._insert(project_leases).values(
            project_id=bindparam("project"), node_id=bindparam("node"), expires_at=now + ttl
        )
        self._acquire = taking.on_conflict_do_update(
            index_elements=[leases.project_id],
            set_={
                "node_id": taking.excluded.node_id,
                "expires_at": taking.excluded.expires_at,
                "term": leases.term + case((leases.node_id == taking.excluded.node_id, 0), else_=1),
            },
            where=or_(leases.node_id == taking.excluded.node_id, leases.expires_at <= now),
        ).returning(leases.project_id, leases.node_id, leases.expires_at, leases.term)
        self._renew = (
            update(project_leases)
            .where(
                leases.node_id == bindparam("node"),
                leases.project_id.in_(bindparam("projects", expanding=True)),
            )
            .values(expires_at=now + ttl)
            .returning(leases.project_id)
        )
        beating = self._insert(cluster_nodes).values(
            node_id=bindparam("node"), expires_at=now + ttl, started_at=now
        )
        self._heartbeat = beating.on_conflict_do_update(
            index_elements=[cluster_nodes.c.node_id],
            set_={"expires_at": beating.excluded.expires_at},
        )
        self._alive = select(cluster_nodes.c.node_id).where(cluster_nodes.c.expires_at > now)
        self._leases = select(
            leases.project_id,
            leases.node_id,
            leases.expires_at,
            leases.term,
            leases.expires_at <= now,
        )

    async def cluster_id(self) -> str:
        return await asyncio.to_thread(read_cluster_id, self._engine)

    async def heartbeat(self, node_id: str, ttl: float) -> list[str]:
        def beat(connection: Connection) -> list[str]:
            connection.execute(self._heartbeat, {"node": node_id, "ttl": ttl})
            return sorted(str(row[0]) for row in connection.execute(self._alive))

        return await self._writer.submit(beat)

    async def acquire(self, project_id: str, node_id: str, ttl: float) -> Lease | None:
        def take(connection: Connection) -> Lease | None:
            row = connection.execute(
                self._acquire, {"project": project_id, "node": node_id, "ttl": ttl}
            ).first()
            if row is None:
                return None
            return Lease(str(row[0]), str(row[1]), float(row[2]), int(row[3]))

        return await self._writer.submit(take)

    async def renew(self, node_id: str, project_ids: list[str], ttl: float) -> list[str]:
        if not project_ids:
            return []
        parameters = {"node": node_id, "projects": list(project_ids), "ttl": ttl}

        def extend(connection: Connection) -> list[str]:
            rows = connection.execute(self._renew, parameters)
            return sorted(str(row[0]) for row in rows)

        return await self._writer.submit(extend)

    async def release(self, project_id: str, node_id: str) -> None:
        statement = delete(project_leases).where(
            project_leases.c.project_id == project_id, project_leases.c.node_id == node_id
        )

        def drop(connection: Connection) -> None:
            connection.execute(statement)

        await self._writer.submit(drop)

    async def leave(self, node_id: str) -> None:
        statements = [
            delete(table).where(table.c.node_id == node_id)
            for table in (project_leases, cluster_nodes)
        ]

        def drop(connection: Connection) -> None:
            for statement in statements:
                connection.execute(statement)

        await self._writer.submit(drop)

    async def leases(self) -> list[Lease]:
        def read() -> list[Lease]:
            with self._engine.connect() as connection:
                return [
                    Lease(str(row[0]), str(row[1]), float(row[2]), int(row[3]), bool(row[4]))
                    for row in connection.execute(self._leases)
                ]

        return await asyncio.to_thread(read)
