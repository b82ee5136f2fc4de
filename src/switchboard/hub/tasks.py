"""Each project's task list: what Claude reports through update_task_status and
report_progress, and what its own todo and task tools hold (mirrored).

Every change is stored (the list survives restarts) and logged as a ``task`` event, so
subscribers see it live and the subscribe ack carries the list as it stands.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

from switchboard.agents.back_channel import ReportProgress, UpdateTaskStatus
from switchboard.agents.base import TaskReported, TodoListReported
from switchboard.hub.back_channel_errors import ToolError
from switchboard.protocol.back_channel import (
    MAX_TASKS,
    MAX_TITLE,
    ProgressReported,
    TaskChanged,
    TaskInfo,
    TaskOrigin,
    TaskRemoved,
    TaskStatus,
)
from switchboard.store.ports import BackChannelStore
from switchboard.store.records import NewEvent

Append = Callable[[str, NewEvent], Awaitable[None]]
"""Append an event to a project's log."""

TODO_PREFIX = "todo-"
MAX_TASK_ID = 200
FINISHED: frozenset[str] = frozenset({"completed", "failed"})
CLAUDE_STATUSES: dict[str, TaskStatus] = {
    "pending": "pending",
    "in_progress": "in_progress",
    "completed": "completed",
}


class TaskBoard:
    def __init__(self, store: BackChannelStore, append: Append) -> None:
        self._store = store
        self._append = append
        self._changing = asyncio.Lock()

    def tasks(self, project_id: str | None = None) -> list[TaskInfo]:
        return self._store.tasks(project_id)

    async def update(self, project_id: str, run_id: str | None, args: UpdateTaskStatus) -> TaskInfo:
        """update_task_status. Raises :class:`ToolError` for an unknown task without a title."""
        async with self._changing:
            task = self._store.task(project_id, args.task_id)
            if task is None and args.title is None:
                known = ", ".join(t.id for t in self.tasks(project_id)[-20:]) or "none"
                raise ToolError(
                    "unknown_task",
                    f"no task {args.task_id!r} (known: {known}); give a title to add it",
                )
            title = args.title or (task.title if task is not None else args.task_id)
            note = args.note if args.note is not None else (task.note if task else None)
            return await self._put(
                project_id,
                run_id,
                task_id=args.task_id,
                title=title,
                status=args.status,
                origin=task.origin if task is not None else "switchboard",
                note=note,
                percent=task.percent if task is not None else None,
            )

    async def progress(self, project_id: str, run_id: str | None, args: ReportProgress) -> None:
        """report_progress: on a task (its note and percent), or on its own."""
        async with self._changing:
            if args.task_id is None:
                body = ProgressReported(message=args.message, percent=args.percent, at=time.time())
                await self._append(project_id, NewEvent("task", body.model_dump_json(), run_id))
                return
            task = self._store.task(project_id, args.task_id)
            if task is None:
                raise ToolError("unknown_task", f"no task {args.task_id!r}")
            await self._put(
                project_id,
                run_id,
                task_id=task.id,
                title=task.title,
                status=task.status,
                origin=task.origin,
                note=args.message,
                percent=args.percent,
            )

    async def reported(self, project_id: str, run_id: str | None, event: TaskReported) -> None:
        """Claude's TaskCreate / TaskUpdate."""
        task_id = event.task_id[:MAX_TASK_ID]
        async with self._changing:
            task = self._store.task(project_id, task_id)
            if event.status == "deleted":
                if task is not None:
                    await self._remove(project_id, run_id, [task.id])
                return
            title = event.title or (task.title if task else f"Task {task_id}")
            status = CLAUDE_STATUSES.get(event.status or "", task.status if task else "pending")
            if task is None or (task.title, task.status) != (title, status):
                await self._put(
                    project_id,
                    run_id,
                    task_id=task_id,
                    title=title,
                    status=status,
                    origin=task.origin if task else "task",
                    note=task.note if task else None,
                    percent=task.percent if task else None,
                )

    async def todo_list(self, project_id: str, run_id: str | None, event: TodoListReported) -> None:
        """Claude's TodoWrite: ``todo-1`` … ``todo-N`` replace the last list."""
        async with self._changing:
            ids = []
            for index, (title, claude_status) in enumerate(event.items[:MAX_TASKS], start=1):
                task_id = f"{TODO_PREFIX}{index}"
                ids.append(task_id)
                status = CLAUDE_STATUSES.get(claude_status, "pending")
                task = self._store.task(project_id, task_id)
                if task is None or (task.title, task.status) != (title[:MAX_TITLE], status):
                    await self._put(
                        project_id,
                        run_id,
                        task_id=task_id,
                        title=title,
                        status=status,
                        origin="todo",
                        note=task.note if task else None,
                        percent=task.percent if task else None,
                    )
            gone = [
                task.id
                for task in self.tasks(project_id)
                if task.origin == "todo" and task.id not in ids
            ]
            await self._remove(project_id, run_id, gone)

    async def _put(
        self,
        project_id: str,
        run_id: str | None,
        *,
        task_id: str,
        title: str,
        status: TaskStatus,
        origin: TaskOrigin,
        note: str | None = None,
        percent: float | None = None,
    ) -> TaskInfo:
        if self._store.task(project_id, task_id) is None:
            await self._make_room(project_id, run_id, strict=origin == "switchboard")
        task = TaskInfo(
            id=task_id,
            project=project_id,
            title=title[:MAX_TITLE],
            status=status,
            note=note,
            percent=percent,
            origin=origin,
            run=run_id,
            updated_at=time.time(),
        )
        await self._store.put_task(task)
        body = TaskChanged(task=task).model_dump_json()
        await self._append(project_id, NewEvent("task", body, run_id))
        return task

    async def _make_room(self, project_id: str, run_id: str | None, *, strict: bool) -> None:
        """Below MAX_TASKS: the oldest finished task goes; with none finished, a task
        Claude adds by the tool is refused, and a mirrored one pushes out the oldest."""
        tasks = self.tasks(project_id)
        if len(tasks) < MAX_TASKS:
            return
        finished = [task for task in tasks if task.status in FINISHED]
        if not finished and strict:
            raise ToolError(
                "too_many_tasks", f"the project has {len(tasks)} tasks; finish some first"
            )
        await self._remove(project_id, run_id, [(finished or tasks)[0].id])

    async def _remove(self, project_id: str, run_id: str | None, task_ids: list[str]) -> None:
        if not task_ids:
            return
        await self._store.remove_tasks(project_id, task_ids)
        for task_id in task_ids:
            body = TaskRemoved(task_id=task_id).model_dump_json()
            await self._append(project_id, NewEvent("task", body, run_id))
