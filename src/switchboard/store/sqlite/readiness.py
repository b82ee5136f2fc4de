"""Whether the database can serve (``/readyz``): reachable, its schema at the newest
migration, and its writer alive with its last write through."""

import functools

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from switchboard.store.sqlite.migrate import alembic_config
from switchboard.store.sqlite.writer import Writer


@functools.cache
def newest_migration() -> str | None:
    """The head revision of the migrations shipped (read once: they do not change)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def problems(engine: Engine, writer: Writer) -> list[str]:
    """Why the store cannot serve now; empty when it can. Blocks: call off the loop."""
    found = writer.problems()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        reason = getattr(exc, "orig", None) or exc
        return [*found, f"the database cannot be reached: {reason}"]
    head = newest_migration()
    if current != head:
        found.append(f"the database schema is at migration {current}, not {head}")
    return found
