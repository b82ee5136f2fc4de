"""The script a :class:`~switchboard.scripted_model.server.ScriptedModelServer` follows.

A script is a list of turns; each conversation request from the CLI takes the next
turn. A turn is one model reply: content blocks, or an API error, optionally delayed::

    {"turns": [
        {"text": "I will run a command.", "tool_use": {"name": "Bash",
                                                        "input": {"command": "echo hi"}}},
        {"text": "Done."},
        {"error": {"status": 400, "message": "bad request"}},
        {"delay": 30, "text": "too late"},
        {"hold": "go", "text": "when you say so"}
    ]}

``text``, ``thinking`` and ``tool_use`` are shorthands for ``blocks`` (thinking, then
text, then tool_use); ``blocks`` gives full control over order.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextBlock(_Strict):
    type: Literal["text"] = "text"
    text: str


class ThinkingBlock(_Strict):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str = "EqScriptedSignature=="


class ToolUseBlock(_Strict):
    type: Literal["tool_use"] = "tool_use"
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


Block = Annotated[TextBlock | ThinkingBlock | ToolUseBlock, Field(discriminator="type")]


class ApiError(_Strict):
    """An HTTP error reply in the Messages API's error shape."""

    status: int = 400
    type: str = "invalid_request_error"
    message: str = "scripted error"
    retryable: bool = False
    """Let the CLI retry it (it reports each retry as a ``system/api_retry`` line), as it
    does for a 429, 5xx or 529 from the real API. By default the reply tells the CLI not
    to retry, so an error reaches the user at once."""


class TokenUsage(_Strict):
    """The token counts a reply reports in its ``usage`` (the CLI prices them)."""

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=1, ge=0)
    cache_creation_input_tokens: int = Field(default=0, ge=0)
    cache_read_input_tokens: int = Field(default=0, ge=0)


class Turn(_Strict):
    """One model reply."""

    blocks: list[Block] = Field(default_factory=list)
    error: ApiError | None = None
    delay: float = Field(default=0.0, ge=0)
    """Seconds to wait before answering."""
    chunk_delay: float = Field(default=0.0, ge=0)
    """Seconds to wait between streamed events (makes a reply visibly stream)."""
    hold: str | None = None
    """A gate's name: the reply waits (after ``delay``) until the gate is released with
    ``ScriptedModelServer.release(name)`` or ``POST /_scripted/release/NAME``. A test
    that needs a run to be busy while it acts holds it instead of guessing a delay."""
    repeat: int = Field(default=1, ge=1)
    """How many consecutive conversation requests this turn answers. The CLI retries
    some errors (2.1.330 re-sends a 400 up to six times with fewer betas), so an error
    meant to reach the user should repeat."""
    stop_reason: str | None = None
    """Defaults to ``tool_use`` when the turn has a tool_use block, else ``end_turn``."""
    usage: TokenUsage | None = None
    """The tokens the reply reports (by default: estimated from the request and the
    reply's length). The CLI prices them, so a script sets what a turn costs."""

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthands(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not ({"text", "thinking", "tool_use"} & data.keys()):
            return data
        data = dict(data)
        blocks: list[dict[str, Any]] = list(data.pop("blocks", []))
        if "thinking" in data:
            blocks.append({"type": "thinking", "thinking": data.pop("thinking")})
        if "text" in data:
            blocks.append({"type": "text", "text": data.pop("text")})
        if "tool_use" in data:
            uses = data.pop("tool_use")
            for use in uses if isinstance(uses, list) else [uses]:
                blocks.append({"type": "tool_use", **use})
        data["blocks"] = blocks
        return data

    @model_validator(mode="after")
    def _has_content(self) -> "Turn":
        if self.error is None and not self.blocks:
            raise ValueError("a turn needs blocks (text, thinking, tool_use) or an error")
        return self

    @property
    def effective_stop_reason(self) -> str:
        if self.stop_reason:
            return self.stop_reason
        has_tool = any(isinstance(block, ToolUseBlock) for block in self.blocks)
        return "tool_use" if has_tool else "end_turn"


class Script(_Strict):
    """Turns, served in order to conversation requests."""

    turns: list[Turn] = Field(default_factory=list)
    side_reply: str = "OK"
    """Text answered to requests outside the conversation (those that offer no tools,
    such as title generation); they do not consume turns."""
    model: str = "claude-scripted-1"
    """Model name reported when the request does not name one."""
    loop: bool = False
    """Start over from the first turn when the last one has been served, instead of
    answering that the script has run out (for demos that take any number of prompts)."""

    @classmethod
    def from_file(cls, path: Path) -> "Script":
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    @classmethod
    def of(cls, *turns: dict[str, Any] | Turn) -> "Script":
        """Build a script from turns given as dicts (shorthands allowed) or models."""
        return cls(turns=[t if isinstance(t, Turn) else Turn.model_validate(t) for t in turns])


EXHAUSTED = Turn(error=ApiError(status=400, message="scripted model: the script has no turns left"))
"""Served when the script has run out (and does not loop): a non-retryable error the CLI
reports at once."""
