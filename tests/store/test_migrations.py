import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from switchboard.store.sqlite.database import open_engine
from switchboard.store.sqlite.migrate import downgrade, upgrade
from switchboard.store.sqlite.schema import metadata


def test_migrations_create_every_table(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= {
        "projects",
        "runs",
        "events",
        "agent_processes",
        "alembic_version",
    }


def test_migrations_and_schema_module_agree(engine: Engine) -> None:
    """Fails when schema.py changes without a migration (or the other way round)."""
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_upgrade_is_idempotent_and_downgrade_works(store_url: str) -> None:
    engine = open_engine(store_url)
    upgrade(engine)
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert "events" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
