"""What the hub does when Claude calls one of Switchboard's own tools (the back-channel).

Each :class:`~switchboard.agents.base.ToolCall` is validated against its tool's
arguments (:mod:`switchboard.agents.back_channel`) and answered with a
:class:`~switchboard.agents.base.ToolResult`: JSON text, or ``error <code>: <reason>``
(:mod:`switchboard.hub.back_channel_errors`). All but ``request_approval`` answer at
once; that one opens a confirmation of kind ``approval`` and answers when a client
approves or rejects it (or it expires).
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from switchboard.agents.back_channel import (
    TOOLS_BY_NAME,
    GetDiagnostics,
    NotifyUser,
    ReportProgress,
    RequestApproval,
    ShowDiff,
    UpdateTaskStatus,
)
from switchboard.agents.base import TaskReported, TodoListReported, ToolCall, ToolResult
from switchboard.exceptions import RequestRefused
from switchboard.hub.back_channel_errors import ToolError
from switchboard.hub.confirmation import Decision
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.diagnostics import DiagnosticsBoard, project_path
from switchboard.hub.diffs import check_total, file_diff, within_budget
from switchboard.hub.notify import CommandNotifier
from switchboard.hub.tasks import TaskBoard
from switchboard.protocol.back_channel import ApprovalInfo, DiffPreview, FileDiff, Notification
from switchboard.protocol.model_base import Model, problems
from switchboard.store.ports import BackChannelStore
from switchboard.store.records import NewEvent, ProjectRecord

log = logging.getLogger(__name__)

MAX_RESULT_CHARS = 200_000
"""get_diagnostics answers with the files that fit in this much (the rest are counted)."""

Reply = Callable[[ToolResult], Awaitable[bool]]
"""Send a call's result to the agent; False if it no longer waits."""
Append = Callable[[str, NewEvent], Awaitable[None]]


class NotificationTold(Model):
    """What ``--on-notification`` gets on stdin: the notification, and where from."""

    type: str
    message: str
    level: str
    at: float
    project: str
    project_name: str
    run: str | None


class BackChannel:
    def __init__(
        self,
        store: BackChannelStore,
        tasks: TaskBoard,
        diagnostics: DiagnosticsBoard,
        confirmations: ConfirmationBook,
        append: Append,
        *,
        notifier: CommandNotifier | None = None,
    ) -> None:
        self._store = store
        self.tasks = tasks
        self.diagnostics = diagnostics
        self._confirmations = confirmations
        self._append = append
        self._notifier = notifier

    async def call(
        self, project: ProjectRecord, run_id: str | None, call: ToolCall, reply: Reply
    ) -> None:
        """Do what the call asks, and reply (now, or once a person answered)."""
        try:
            result = await self._dispatch(project, run_id, call, reply)
        except ToolError as exc:
            result = exc.result()
        except ValidationError as exc:
            result = ToolError("bad_arguments", problems(exc, "arguments", most=10)).result()
        except Exception as exc:  # the store failed, the project went: Claude must hear
            log.exception("the %s call of project %s failed", call.tool, project.name)
            result = ToolError("internal", f"Switchboard failed to do it: {exc}").result()
        if result is not None and not await reply(result):
            log.info("the agent no longer waited for its %s call", call.tool)

    def forget_project(self, project_id: str) -> None:
        """The project was removed (its tasks and diagnostics went with its rows)."""
        self._store.forget_project(project_id)
        self.diagnostics.forget_project(project_id)

    async def tasks_reported(
        self, project_id: str, run_id: str | None, event: TaskReported | TodoListReported
    ) -> None:
        """Claude's own task or todo tools changed its list."""
        if isinstance(event, TaskReported):
            await self.tasks.reported(project_id, run_id, event)
        else:
            await self.tasks.todo_list(project_id, run_id, event)

    async def _dispatch(
        self, project: ProjectRecord, run_id: str | None, call: ToolCall, reply: Reply
    ) -> ToolResult | None:
        spec = TOOLS_BY_NAME.get(call.tool)
        if spec is None:
            raise ToolError("bad_arguments", f"no tool {call.tool!r}")
        args = spec.arguments.model_validate(call.arguments)
        if isinstance(args, UpdateTaskStatus):
            task = await self.tasks.update(project.id, run_id, args)
            return _ok({"task": task.model_dump(mode="json", exclude={"project"})})
        if isinstance(args, ReportProgress):
            await self.tasks.progress(project.id, run_id, args)
            return _ok({"reported": True})
        if isinstance(args, RequestApproval):
            await self._request_approval(project, run_id, call, args, reply)
            return None
        if isinstance(args, ShowDiff):
            state = call.files.get(args.path)
            change = await asyncio.to_thread(file_diff, args.path, state, args.new_content, None)
            preview = DiffPreview(title=args.title, change=change, at=time.time())
            event = NewEvent("diff_preview", preview.model_dump_json(), run_id)
            await self._append(project.id, event)
            return _ok({"shown": True, "new_file": change.new_file})
        if isinstance(args, GetDiagnostics):
            return self._diagnostics_of(project, args)
        assert isinstance(args, NotifyUser)
        notification = Notification(message=args.message, level=args.level, at=time.time())
        body = notification.model_dump_json()
        await self._append(project.id, NewEvent("notification", body, run_id))
        if self._notifier is not None:
            told = NotificationTold(
                **notification.model_dump(),
                project=project.id,
                project_name=project.name,
                run=run_id,
            )
            self._notifier.send(told, f"a notification of {project.name}")
        return _ok({"sent": True})

    async def _request_approval(
        self,
        project: ProjectRecord,
        run_id: str | None,
        call: ToolCall,
        args: RequestApproval,
        reply: Reply,
    ) -> None:
        check_total([len(c.new_content or c.diff or "") for c in args.changes])

        def diffs() -> list[FileDiff]:
            made = [
                file_diff(c.path, call.files.get(c.path), c.new_content, c.diff)
                for c in args.changes
            ]
            return within_budget(made)

        approval = ApprovalInfo(summary=args.summary, changes=await asyncio.to_thread(diffs))

        async def deliver(decision: Decision) -> bool:
            answer: dict[str, Any] = {"decision": "approved" if decision.allow else "rejected"}
            if decision.message:
                answer["comment"] = decision.message
            if decision.response not in {"approve", "reject"}:
                answer["expired"] = True  # nobody answered: the message says why
            return await reply(ToolResult(json.dumps(answer)))

        await self._confirmations.open_approval(project.id, run_id, call.call_id, approval, deliver)

    def _diagnostics_of(self, project: ProjectRecord, args: GetDiagnostics) -> ToolResult:
        path = None
        if args.path is not None:
            try:
                path = project_path(project, args.path)
            except RequestRefused as exc:
                raise ToolError("bad_path", str(exc)) from None
        shown: list[dict[str, Any]] = []
        size = 0
        files = self.diagnostics.of_project(project.id, path)
        for file in files:
            found = [d.model_dump(mode="json", exclude_none=True) for d in file.diagnostics]
            size += len(json.dumps(found))
            if size > MAX_RESULT_CHARS and shown:
                return _ok({"files": shown, "omitted_files": len(files) - len(shown)})
            shown.append({"path": file.path, "diagnostics": found})
        return _ok({"files": shown})


def _ok(value: dict[str, Any]) -> ToolResult:
    return ToolResult(json.dumps(value))
