"""How a back-channel tool call is refused: a code Claude is told, with the reason.

The codes (docs/back-channel.md lists them): ``bad_arguments``, ``unknown_task``,
``too_many_tasks``, ``content_too_large``, ``bad_path``, ``internal`` (the hub failed:
its store, say).
"""

from typing import Literal

from switchboard.agents.base import ToolResult

ToolErrorCode = Literal[
    "bad_arguments", "unknown_task", "too_many_tasks", "content_too_large", "bad_path", "internal"
]


class ToolError(Exception):
    """A tool call that cannot be done; Claude gets ``error <code>: <message>``."""

    def __init__(self, code: ToolErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def result(self) -> ToolResult:
        return ToolResult(f"error {self.code}: {self.message}", is_error=True)
