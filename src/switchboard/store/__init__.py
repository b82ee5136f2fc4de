"""Durable state: projects, runs and the per-project event log.

SQLite in WAL mode by default (one file under the data dir), through SQLAlchemy Core so
that PostgreSQL can follow with the same schema; Alembic manages the schema. Writes go
through one writer thread with group commit; reads run off the event loop.
"""
