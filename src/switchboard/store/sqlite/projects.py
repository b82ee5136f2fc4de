"""Registered projects (table ``projects``), kept in memory too; the only writer of the table."""

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from switchboard.project_paths import (
    ProjectPathError,
    canonical,
    check_project_path,
    refuse_unsafe_characters,
)
from switchboard.store.projects import NAME_PATTERN, ProjectError, default_name
from switchboard.store.records import ProjectRecord
from switchboard.store.sqlite.schema import projects
from switchboard.store.sqlite.writer import Writer


class SqliteProjectStore:
    """Projects by id, name or path. Call :meth:`load` once at start."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._by_id: dict[str, ProjectRecord] = {}
        self._changing = asyncio.Lock()  # an add checks against all others: one at a time

    async def load(self) -> None:
        def read() -> list[ProjectRecord]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(projects)).mappings()
                return [
                    ProjectRecord(
                        **{**row, "path": Path(row["path"]), "agent": row["agent"] or None}
                    )
                    for row in rows
                ]

        self._by_id = {record.id: record for record in await asyncio.to_thread(read)}

    def all(self) -> list[ProjectRecord]:
        return sorted(self._by_id.values(), key=lambda record: record.name)

    def find(self, key: str) -> ProjectRecord | None:
        """The project whose id, name or path is ``key``. A path with control
        characters raises ProjectPathError (``bad_path``); one that cannot be resolved
        (now a loop of symlinks, say) is compared as written."""
        if key in self._by_id:
            return self._by_id[key]
        for record in self._by_id.values():
            if record.name == key:
                return record
        if key.startswith(("/", "~", ".")):
            refuse_unsafe_characters(key)
            try:
                path = canonical(key)
            except ProjectPathError:
                path = Path(os.path.abspath(os.path.expanduser(key)))
            for record in self._by_id.values():
                if record.path == path and record.agent is None:  # a path here: this machine's
                    return record
        return None

    def get(self, key: str) -> ProjectRecord:
        record = self.find(key)
        if record is None:
            raise ProjectError("unknown_project", f"no project {key!r}")
        return record

    async def add(
        self, raw_path: str, name: str | None = None, allowed_roots: Iterable[Path] = ()
    ) -> ProjectRecord:
        """Register a directory of this machine. Raises ProjectPathError or ProjectError."""
        async with self._changing:
            registered = [r.path for r in self._by_id.values() if r.agent is None]
            path = check_project_path(raw_path, registered, allowed_roots)
            return await self._insert(path, name, None)

    async def add_remote(
        self, agent: str, check: Callable[[list[Path]], Awaitable[Path]], name: str | None
    ) -> ProjectRecord:
        """Register a directory on a remote agent: ``check`` (the agent's own check,
        given the agent's other projects) returns its canonical path or raises."""
        async with self._changing:
            path = await check([r.path for r in self._by_id.values() if r.agent == agent])
            return await self._insert(path, name, agent)

    async def _insert(self, path: Path, name: str | None, agent: str | None) -> ProjectRecord:
        chosen = name if name is not None else self._free_name(default_name(path))
        if not NAME_PATTERN.fullmatch(chosen):
            raise ProjectError(
                "name_invalid", f"project names match {NAME_PATTERN.pattern}: {chosen!r}"
            )
        if any(record.name == chosen for record in self._by_id.values()):
            raise ProjectError("name_taken", f"a project is already named {chosen!r}")
        record = ProjectRecord(
            uuid.uuid4().hex[:12], path, chosen, None, 1, time.time(), agent=agent
        )
        row = {
            **{f: getattr(record, f) for f in ProjectRecord.__slots__},
            "path": str(path),
            "agent": agent or "",
        }

        def write(connection: Connection) -> None:
            connection.execute(insert(projects).values(**row))

        await self._writer.submit(write)
        self._by_id[record.id] = record
        return record

    def _free_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``, … if another project has it."""
        taken = {record.name for record in self._by_id.values()}
        candidate, number = base, 1
        while candidate in taken:
            number += 1
            candidate = f"{base[:60]}-{number}"
        return candidate

    async def remove(self, key: str) -> ProjectRecord:
        """Forget a project and its history (runs and events go with it)."""
        async with self._changing:
            record = self.get(key)

            def write(connection: Connection) -> None:
                connection.execute(delete(projects).where(projects.c.id == record.id))

            await self._writer.submit(write)
            del self._by_id[record.id]
            return record

    async def set_permission_mode(self, project_id: str, mode: str | None) -> ProjectRecord:
        record = replace(self._by_id[project_id], permission_mode=mode)

        def write(connection: Connection) -> None:
            connection.execute(
                update(projects).where(projects.c.id == project_id).values(permission_mode=mode)
            )

        await self._writer.submit(write)
        self._by_id[project_id] = record
        return record

    async def set_back_channel(self, project_id: str, enabled: bool) -> ProjectRecord:
        record = replace(self._by_id[project_id], back_channel=enabled)

        def write(connection: Connection) -> None:
            connection.execute(
                update(projects).where(projects.c.id == project_id).values(back_channel=enabled)
            )

        await self._writer.submit(write)
        self._by_id[project_id] = record
        return record

    async def set_session(self, project_id: str, session_id: str | None) -> ProjectRecord:
        """Remember the Claude session the next run resumes (None: start a fresh one)."""
        record = replace(self._by_id[project_id], session_id=session_id)

        def write(connection: Connection) -> None:
            connection.execute(
                update(projects).where(projects.c.id == project_id).values(session_id=session_id)
            )

        await self._writer.submit(write)
        self._by_id[project_id] = record
        return record


def _record(row: Any) -> ProjectRecord:
    """A row as a record (an empty ``agent`` is this machine)."""
    return ProjectRecord(**{**row, "path": Path(row["path"]), "agent": row["agent"] or None})
