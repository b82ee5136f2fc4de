"""The store fixtures (a migrated SQLite database and its writer)."""

from tests.store.conftest import engine, writer

__all__ = ["engine", "writer"]
