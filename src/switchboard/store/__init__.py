"""Durable state: projects, runs, rules, tokens and the per-project event log.

:mod:`.ports` says what the hub asks of each store, :mod:`.records` what they deal in;
:mod:`.sqlite` implements them on SQLAlchemy Core (SQLite in WAL mode by default, so
that PostgreSQL can follow with the same schema; Alembic manages the schema). Every
SQL statement lives under :mod:`.sqlite`.
"""
