"""Bring a database's schema up to date (Alembic, run programmatically at start)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_CLASS = 0x53574D47
"""The first half of the advisory lock that makes nodes starting together on one
PostgreSQL migrate one at a time ("SWMG"); the second is ``hashtext`` of the schema."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` in one transaction."""
    config = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # held until this transaction ends
            connection.execute(
                text(
                    "SELECT pg_advisory_xact_lock("
                    "CAST(:class AS integer), hashtext(current_schema()))"
                ),
                {"class": MIGRATION_LOCK_CLASS},
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``"base"``: an empty schema)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
