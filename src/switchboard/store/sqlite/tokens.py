"""Scoped tokens: secrets handed to producers, kept only as hashes.

The server's own token (``--token`` or ``DATA_DIR/token``) may do everything. A scoped
token is created by a holder of that token and may do only what its scope says
(``produce``: publish skill events and request confirmations, optionally only for some
projects). Secrets are 32 random bytes, so a plain SHA-256 is enough to look them up
without storing them.
"""

import asyncio
import hashlib
import json
import secrets
import time
import uuid

from sqlalchemy import Engine, RowMapping, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import ScopedToken
from switchboard.store.sqlite.schema import tokens
from switchboard.store.sqlite.writer import Writer

SECRET_PREFIX = "sbp_"  # noqa: S105 (a prefix that makes leaked tokens recognisable)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SqliteTokenStore:
    """Tokens in memory (by hash), persisted through the writer. Call :meth:`load`."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._by_hash: dict[str, ScopedToken] = {}

    async def load(self) -> None:
        def read() -> dict[str, ScopedToken]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(tokens)).mappings()
                return {row["secret_hash"]: _token(row) for row in rows}

        self._by_hash = await asyncio.to_thread(read)

    def all(self) -> list[ScopedToken]:
        return sorted(self._by_hash.values(), key=lambda token: token.created_at)

    def find(self, secret: str) -> ScopedToken | None:
        """The token whose secret this is (constant-time enough: a hash lookup)."""
        if not secret.startswith(SECRET_PREFIX):
            return None
        return self._by_hash.get(secret_hash(secret))

    async def create(
        self, name: str, scope: str, projects: tuple[str, ...] | None
    ) -> tuple[ScopedToken, str]:
        """A new token and its secret (returned only here)."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        token = ScopedToken(uuid.uuid4().hex[:12], name, scope, projects, time.time())
        digest = secret_hash(secret)
        row = {
            "id": token.id,
            "name": name,
            "scope": scope,
            "projects": json.dumps(list(projects)) if projects is not None else None,
            "secret_hash": digest,
            "created_at": token.created_at,
        }

        def write(connection: Connection) -> None:
            connection.execute(insert(tokens), row)

        await self._writer.submit(write)
        self._by_hash[digest] = token
        return token, secret

    def exists(self, token_id: str) -> bool:
        return any(token.id == token_id for token in self._by_hash.values())

    async def revoke(self, token_id: str) -> ScopedToken | None:
        """Forget the token at once (no request may use it from now on), then delete
        its row."""
        found = next(((digest, t) for digest, t in self._by_hash.items() if t.id == token_id), None)
        if found is None:
            return None
        self._by_hash.pop(found[0], None)

        def write(connection: Connection) -> None:
            connection.execute(delete(tokens).where(tokens.c.id == token_id))

        await self._writer.submit(write)
        return found[1]


def _token(row: RowMapping) -> ScopedToken:
    projects = json.loads(row["projects"]) if row["projects"] is not None else None
    return ScopedToken(
        id=row["id"],
        name=row["name"],
        scope=row["scope"],
        projects=tuple(projects) if projects is not None else None,
        created_at=row["created_at"],
    )
