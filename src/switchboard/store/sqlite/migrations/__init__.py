"""Alembic migrations of the store's schema (run by :mod:`switchboard.store.sqlite.migrate`)."""
