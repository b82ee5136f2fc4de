"""Turn ``/ws`` events into readable terminal lines (pure; used by the client commands)."""

import json
import re
from typing import Any

from switchboard.back_channel_lines import (
    approval_lines,
    diagnostics_lines,
    diff_preview_lines,
    notification_lines,
    task_lines,
)

TOOL_INPUT_SHOWN = 120
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with each lone surrogate (a CLI line may hold ``"\\ud800"``, which JSON
    readers keep) replaced by U+FFFD, so that it can be printed as UTF-8."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _json(value: Any) -> str:
    """``value`` as one line of JSON, whatever it holds."""
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):  # nested deeper than Python's json goes
        return "…"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_summary(run: dict[str, Any]) -> str:
    """One line for a run's state; finished runs with their metrics."""
    state = run.get("state", "?")
    parts = [f"run {run.get('id')} {state}"]
    if run.get("duration_ms") is not None:
        parts.append(f"{run['duration_ms'] / 1000:.1f} s")
    if run.get("num_turns") is not None:
        parts.append(f"{run['num_turns']} turns")
    if run.get("cost_usd") is not None:
        parts.append(f"${run['cost_usd']:.4f}")
    line = ", ".join(parts)
    if run.get("error"):
        line += f": {run['error']}"
    return printable(line)


def _content(message: dict[str, Any]) -> Any:
    """``message.content`` of a CLI line, if its ``message`` is an object."""
    inner = message.get("message")
    return inner.get("content") if isinstance(inner, dict) else None


def _content_lines(message: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    content = _content(message)
    if isinstance(content, str):
        return [content] if message.get("type") == "assistant" else []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text" and message.get("type") == "assistant":
            lines.append(str(block.get("text", "")))
        elif kind == "tool_use":
            shown = _clip(_json(block.get("input", {})), TOOL_INPUT_SHOWN)
            lines.append(f"→ {block.get('name')} {shown}")
        elif kind == "tool_result":
            flag = "✗" if block.get("is_error") else "←"
            result = block.get("content")
            text = result if isinstance(result, str) else _json(result)
            lines.append(f"{flag} {_clip(text, TOOL_INPUT_SHOWN)}")
    return lines


def _confirmation_lines(data: dict[str, Any]) -> list[str]:
    kind = data.get("type")
    if kind == "confirmation_required":
        confirmation = data.get("confirmation") or {}
        shown = _clip(_json(confirmation.get("input", {})), TOOL_INPUT_SHOWN)
        options = "/".join(confirmation.get("options", []))
        how = (
            f"  confirmation {confirmation.get('id')} ({options}), "
            f"{confirmation.get('timeout_seconds', 0):g} s to answer"
        )
        if confirmation.get("kind") == "approval":
            return approval_lines(confirmation, how)
        skill = confirmation.get("skill")
        if isinstance(skill, dict):
            hint = skill.get("claude_suggestion")
            asked = (
                f"? {skill.get('skill_id')} step {skill.get('step_index')}: {skill.get('prompt')}"
            )
            return [asked + (f" (Claude suggests {hint})" if hint else ""), how]
        plan = confirmation.get("plan")
        if isinstance(plan, str) and plan:  # shown whole: it is what is being approved
            return [
                "? Claude asks to approve its plan:",
                *(f"  | {line}" for line in plan.splitlines()),
                how,
            ]
        return [f"? {confirmation.get('tool_name')} {shown}", how]
    if kind == "confirmation_answered":
        return [f"· confirmation {data.get('confirmation_id')}: {data.get('response')}"]
    if kind == "confirmation_expired":
        again = " - asked again" if data.get("fallback") == "asked_again" else ""
        return [
            f"· confirmation {data.get('confirmation_id')} expired ({data.get('reason')}){again}"
        ]
    return []


def _skill_line(data: dict[str, Any]) -> str:
    """One line per skill event."""
    kind = str(data.get("type"))
    skill = data.get("skill_id")
    step = f"{skill} step {data.get('step_index')} {data.get('name') or ''}".rstrip()
    took = f" ({data['duration_ms']:g} ms)" if data.get("duration_ms") is not None else ""
    lines = {
        "skill_started": f"· skill {skill} ({data.get('name')}) started, "
        f"{data.get('total_steps')} steps",
        "skill_completed": f"· skill {skill} completed{took}",
        "skill_failed": f"! skill {skill} failed: {data.get('error')}",
        "step_started": f"· {step} started",
        "step_completed": f"· {step} done{took}",
        "step_failed": f"! {step} failed: {data.get('error')}",
        "auto_heal_triggered": f"· auto-heal {data.get('heal_type')} for {skill}: "
        f"{data.get('action')}",
        "auto_heal_completed": f"· auto-heal for {skill} "
        + ("succeeded" if data.get("success") else "failed"),
        "memory_query_started": f"· memory query: {_clip(str(data.get('query')), 80)}",
        "memory_query_completed": f"· memory query {data.get('query_id')}: "
        f"{data.get('result_count', 0)} results",
        "intent_classified": f"· intent: {data.get('intent')}",
    }
    return lines.get(kind, f"· {kind}")


BACK_CHANNEL_KINDS = {
    "task": task_lines,
    "diff_preview": diff_preview_lines,
    "notification": notification_lines,
    "diagnostics": diagnostics_lines,
}


def describe(event: dict[str, Any]) -> list[str]:
    """What to print for one ``event`` message (nothing for bookkeeping lines)."""
    try:
        return [printable(line) for line in _describe(event)]
    except RecursionError:  # a CLI line nested as deeply as Python's json reads
        return ["… (a message nested too deeply to show)"]


def _describe(event: dict[str, Any]) -> list[str]:
    data = event.get("data")
    if not isinstance(data, dict):
        return []
    kind = event.get("kind")
    if kind == "run":
        state = data.get("state")
        if state == "queued":
            return [f"· run {data.get('id')} queued: {_clip(str(data.get('prompt')), 80)}"]
        if state == "running" and data.get("origin") == "claude":
            return [f"· Claude carries on by itself (run {data.get('id')})"]
        return [f"· {run_summary(data)}"]
    if kind == "session":
        return [_session_line(data)]
    if kind == "imported":
        return _imported_lines(data)
    if kind == "cli_error":
        return [f"! {data.get('error')}"]
    if kind == "confirmation":
        return _confirmation_lines(data)
    if kind == "skill":
        return [_skill_line(data)]
    back_channel = BACK_CHANNEL_KINDS.get(str(kind))
    if back_channel is not None:
        return back_channel(data)
    if data.get("type") in ("assistant", "user"):
        return _content_lines(data)
    if data.get("type") == "system":
        return _system_lines(data)
    return []


def _system_lines(data: dict[str, Any]) -> list[str]:
    """The CLI's system messages worth a line: API retries, background work."""
    subtype = data.get("subtype")
    if subtype == "api_retry":
        delay = data.get("retry_delay_ms")
        seconds = f"{delay / 1000:.1f} s" if isinstance(delay, int | float) else "a moment"
        status = data.get("error_status")
        why = f"{data.get('error') or 'error'}" + (f", HTTP {status}" if status else "")
        return [
            f"· API error ({why}): retrying in {seconds}, "
            f"attempt {data.get('attempt')} of {data.get('max_retries')}"
        ]
    if subtype == "task_notification":
        return [f"· background: {_clip(str(data.get('summary') or data.get('status')), 120)}"]
    return []


def _session_line(data: dict[str, Any]) -> str:
    if data.get("reason") == "session.use":
        omitted = data.get("omitted") or 0
        too_long = data.get("too_long") or 0
        left = f", {omitted} older lines left out" if omitted else ""
        left += f", {too_long} too long to import" if too_long else ""
        return (
            f"· now in session {data.get('session_id')}: "
            f"{data.get('imported', 0)} lines of its history imported{left}"
        )
    return "· the next run starts a new session"


def _imported_lines(data: dict[str, Any]) -> list[str]:
    """A line of an imported session: the person's prompts too, marked with ``>``."""
    content = _content(data)
    if data.get("type") == "user" and isinstance(content, str):
        return [f"> {_clip(content, 200)}"]
    return _content_lines(data)
