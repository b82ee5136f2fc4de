"""Alembic environment: migrations run on a connection handed over by the caller."""

from alembic import context
from sqlalchemy.engine import Connection

from switchboard.store.sqlite.schema import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
