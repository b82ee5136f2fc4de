"""The store fixtures (a migrated SQLite database, its writer, an event log)."""

from tests.store.conftest import engine, event_log, writer

__all__ = ["engine", "event_log", "writer"]
