"""The back-channel's state (tables ``project_tasks`` and ``project_diagnostics``): each
project's task list and the latest diagnostics per file, kept in memory too."""

import asyncio
from collections.abc import Sequence

from sqlalchemy import Engine, and_, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.protocol.back_channel import DiagnosticsInfo, TaskInfo
from switchboard.store.sqlite.schema import project_diagnostics, project_tasks
from switchboard.store.sqlite.writer import Writer


class SqliteBackChannelStore:
    """Tasks and diagnostics in memory, persisted through the writer. Call :meth:`load`."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._tasks: dict[str, dict[str, TaskInfo]] = {}
        self._diagnostics: dict[str, dict[str, DiagnosticsInfo]] = {}

    async def load(self) -> None:
        def read() -> tuple[list[str], list[tuple[str, str]]]:
            with self._engine.connect() as connection:
                tasks = connection.execute(select(project_tasks.c.body)).scalars().all()
                files = connection.execute(
                    select(project_diagnostics.c.project_id, project_diagnostics.c.body)
                ).all()
                return list(tasks), [(row[0], row[1]) for row in files]

        tasks, files = await asyncio.to_thread(read)
        for body in tasks:
            task = TaskInfo.model_validate_json(body)
            self._tasks.setdefault(task.project, {})[task.id] = task
        for project_id, body in files:
            file = DiagnosticsInfo.model_validate_json(body)
            self._diagnostics.setdefault(project_id, {})[file.path] = file

    def tasks(self, project_id: str | None = None) -> list[TaskInfo]:
        if project_id is None:
            found = [task for tasks in self._tasks.values() for task in tasks.values()]
        else:
            found = list(self._tasks.get(project_id, {}).values())
        return sorted(found, key=lambda task: task.updated_at)

    def task(self, project_id: str, task_id: str) -> TaskInfo | None:
        return self._tasks.get(project_id, {}).get(task_id)

    async def put_task(self, task: TaskInfo) -> None:
        key = and_(project_tasks.c.project_id == task.project, project_tasks.c.task_id == task.id)
        row = {
            "project_id": task.project,
            "task_id": task.id,
            "body": task.model_dump_json(),
            "updated_at": task.updated_at,
        }

        def write(connection: Connection) -> None:
            connection.execute(delete(project_tasks).where(key))
            connection.execute(insert(project_tasks), [row])

        await self._writer.submit(write)
        self._tasks.setdefault(task.project, {})[task.id] = task

    async def remove_tasks(self, project_id: str, task_ids: Sequence[str]) -> None:
        ids = list(task_ids)
        if not ids:
            return

        def write(connection: Connection) -> None:
            connection.execute(
                delete(project_tasks).where(
                    and_(project_tasks.c.project_id == project_id, project_tasks.c.task_id.in_(ids))
                )
            )

        await self._writer.submit(write)
        tasks = self._tasks.get(project_id, {})
        for task_id in ids:
            tasks.pop(task_id, None)

    def diagnostics(self, project_id: str) -> list[DiagnosticsInfo]:
        files = self._diagnostics.get(project_id, {})
        return [files[path] for path in sorted(files)]

    async def put_diagnostics(self, project_id: str, file: DiagnosticsInfo) -> None:
        table = project_diagnostics
        key = and_(table.c.project_id == project_id, table.c.path == file.path)
        row = {"project_id": project_id, "path": file.path, "body": file.model_dump_json()}

        def write(connection: Connection) -> None:
            connection.execute(delete(table).where(key))
            if file.diagnostics:
                connection.execute(insert(table), [row])

        await self._writer.submit(write)
        files = self._diagnostics.setdefault(project_id, {})
        if file.diagnostics:
            files[file.path] = file
        else:
            files.pop(file.path, None)

    def forget_project(self, project_id: str) -> None:
        self._tasks.pop(project_id, None)
        self._diagnostics.pop(project_id, None)
