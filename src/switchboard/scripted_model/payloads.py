"""Turn a scripted :class:`Turn` into Messages API payloads (pure; no I/O)."""

import json
import uuid
from typing import Any

from switchboard.scripted_model.script import (
    ApiError,
    Block,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Turn,
)

DELTA_CHARS = 24
"""Text is streamed in pieces of this many characters, so clients see real deltas."""


def new_message_id() -> str:
    return f"msg_scripted{uuid.uuid4().hex[:16]}"


def new_tool_use_id() -> str:
    return f"toolu_scripted{uuid.uuid4().hex[:12]}"


def estimate_tokens(body: dict[str, Any]) -> int:
    """A stable, plausible token count for a request (about four characters a token)."""
    return max(1, len(json.dumps(body.get("messages", []))) // 4)


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _turn_usage(turn: Turn, input_tokens: int, output_tokens: int) -> dict[str, int]:
    """The reply's whole usage: the script's, else the estimates given."""
    if turn.usage is None:
        return _usage(input_tokens, output_tokens)
    return turn.usage.model_dump()


def _complete_block(block: Block, tool_use_id: str) -> dict[str, Any]:
    match block:
        case TextBlock(text=text):
            return {"type": "text", "text": text}
        case ThinkingBlock(thinking=thinking, signature=signature):
            return {"type": "thinking", "thinking": thinking, "signature": signature}
        case ToolUseBlock(name=name, input=tool_input):
            return {"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}


def _pieces(text: str) -> list[str]:
    return [text[i : i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)] or [""]


def _block_stream(index: int, block: Block, tool_use_id: str) -> list[dict[str, Any]]:
    """content_block_start, its deltas, content_block_stop."""
    deltas: list[dict[str, Any]]
    match block:
        case TextBlock(text=text):
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(text)]
        case ThinkingBlock(thinking=thinking, signature=signature):
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(thinking)]
            deltas.append({"type": "signature_delta", "signature": signature})
        case ToolUseBlock(name=name, input=tool_input):
            start = {"type": "tool_use", "id": tool_use_id, "name": name, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(tool_input)}]
    events: list[dict[str, Any]] = [
        {"type": "content_block_start", "index": index, "content_block": start}
    ]
    events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
    events.append({"type": "content_block_stop", "index": index})
    return events


def tool_use_ids(turn: Turn) -> list[str]:
    """Fresh ids for the turn's blocks (the script's own id where it gives one)."""
    return [
        (block.id or new_tool_use_id()) if isinstance(block, ToolUseBlock) else ""
        for block in turn.blocks
    ]


def stream_events(turn: Turn, model: str, input_tokens: int) -> list[dict[str, Any]]:
    """The SSE events of a streamed reply, in order."""
    estimated = max(1, sum(len(json.dumps(_complete_block(b, ""))) for b in turn.blocks) // 4)
    usage = _turn_usage(turn, input_tokens, estimated)
    message: dict[str, Any] = {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},  # the API counts output as it streams
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": message}]
    for index, (block, tool_id) in enumerate(zip(turn.blocks, tool_use_ids(turn), strict=True)):
        events += _block_stream(index, block, tool_id)
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": turn.effective_stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return events


def complete_message(turn: Turn, model: str, input_tokens: int) -> dict[str, Any]:
    """The JSON body of a non-streamed reply."""
    blocks = [
        _complete_block(block, tool_id)
        for block, tool_id in zip(turn.blocks, tool_use_ids(turn), strict=True)
    ]
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": turn.effective_stop_reason,
        "stop_sequence": None,
        "usage": _turn_usage(turn, input_tokens, max(1, len(json.dumps(blocks)) // 4)),
    }


def error_body(error: ApiError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error.type, "message": error.message}}


def sse_frame(event: dict[str, Any]) -> bytes:
    """One server-sent event, named after the payload's type."""
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()
