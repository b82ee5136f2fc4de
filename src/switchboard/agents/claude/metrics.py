"""What one turn of a CLI process cost and how it ended (pure; no I/O).

The CLI's ``result`` message mixes two kinds of figures. ``usage``, ``num_turns`` and
``duration_ms`` describe the turn; ``total_cost_usd`` (like ``duration_api_ms`` and
``modelUsage``) adds up over the life of the process, so in a process that serves
several turns the third identical prompt reports three times the first one's cost.
Checked with CLI 2.1.197 and 2.1.330. :class:`TurnAccounting` keeps one process's books
and turns each result into the turn's own figures.
"""

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from switchboard.agents.base import TurnMetrics
from switchboard.protocol.json_text import nested_deeper_than

AUTH_FAILED = "authentication_failed"
"""The ``error`` the CLI puts on its synthetic assistant message when it has no usable
credentials ("Not logged in · Please run /login") or the API refused them."""


MAX_USAGE_NESTING = 16
"""How deeply a result's ``usage`` may nest to be kept (the CLI's nests two levels)."""
MAX_COUNT = 2**63 - 1
"""The largest integer SQLite stores; a figure beyond it (or below 0) is not one."""


def finite_number(value: object) -> float | None:
    """A finite number (a CLI line may hold 1e400, or an integer of 5000 digits)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) > MAX_COUNT:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _plain(usage: object) -> dict[str, Any] | None:
    """``usage`` if it is an object shallow enough to store and send again (a CLI line
    may nest as deeply as Python's json reads)."""
    if isinstance(usage, Mapping) and not nested_deeper_than(usage, MAX_USAGE_NESTING):
        return dict(usage)
    return None


def _count(value: object) -> int | None:
    """A count or duration that fits in the database."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    return None


class TurnAccounting:
    """One CLI process's books: feed it every message of the process, in order."""

    def __init__(self, binary: Path | None = None) -> None:
        self._binary = binary
        self._cost_so_far = 0.0
        self._auth_failure: str | None = None

    @property
    def process_cost(self) -> float:
        """What the process had cost when its last turn ended (the CLI's running total
        then): the turn under way has cost its total now minus this."""
        return self._cost_so_far

    def observe(self, message: Mapping[str, Any]) -> None:
        """Note what matters in a non-result message of the current turn."""
        if message.get("type") == "assistant" and message.get("error") == AUTH_FAILED:
            self._auth_failure = _assistant_text(message) or "authentication failed"

    def finish(self, result: Mapping[str, Any]) -> TurnMetrics:
        """The turn's figures from its ``result``; starts the next turn's books."""
        total = finite_number(result.get("total_cost_usd"))
        cost = None
        if total is not None:
            cost = max(round(total - self._cost_so_far, 12), 0.0)
            self._cost_so_far = total
        duration = result.get("duration_ms")
        turns = result.get("num_turns")
        usage = result.get("usage")
        session = result.get("session_id")
        return TurnMetrics(
            duration_ms=_count(duration),
            num_turns=_count(turns),
            cost_usd=cost,
            usage=_plain(usage),
            session_id=session if isinstance(session, str) else None,
        )

    def failure(self, result: Mapping[str, Any]) -> str | None:
        """Why a failed turn failed, in words a user can act on (None: it did not)."""
        if not result.get("is_error"):
            self._auth_failure = None
            return None
        auth, self._auth_failure = self._auth_failure, None
        if auth is not None:
            return self._login_hint(auth)
        errors = result.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)
        text = result.get("result")
        return str(text) if text else f"claude reported an error ({result.get('subtype')})"

    def _login_hint(self, said: str) -> str:
        cli = str(self._binary) if self._binary is not None else "claude"
        return (
            f"Claude Code could not authenticate ({said}). Set ANTHROPIC_API_KEY in the "
            f"environment of the Switchboard server, or log in once with the CLI it runs: "
            f"start {cli} in a terminal and type /login."
        )


def _assistant_text(message: Mapping[str, Any]) -> str:
    inner = message.get("message")
    content = inner.get("content") if isinstance(inner, Mapping) else None
    if not isinstance(content, list):
        return ""
    texts = [
        str(block.get("text", ""))
        for block in content
        if isinstance(block, Mapping) and block.get("type") == "text"
    ]
    return " ".join(text for text in texts if text).strip()


_BOOKKEEPING_SYSTEM = frozenset(
    {"session_state_changed", "background_tasks_changed", "task_updated", "task_progress"}
)
_BOOKKEEPING_TYPES = frozenset(
    {"command_lifecycle", "rate_limit_event", "control_response", "control_cancel_request"}
)


def starts_a_turn(message: Mapping[str, Any]) -> bool:
    """Whether a line printed while no turn is under way means the CLI has begun one by
    itself (a follow-up turn), rather than reporting on the state of its work.

    Follow-ups begin with ``task_notification`` (background work finished) or ``init``
    (any turn); ``result`` never begins one, and neither do the state and bookkeeping
    lines that trail a turn (``session_state_changed`` idle, ``background_tasks_changed``,
    ``command_lifecycle`` …) or answers to our own control requests.
    """
    kind = message.get("type")
    if kind in _BOOKKEEPING_TYPES or kind == "result":
        return False
    if kind == "system":
        subtype = message.get("subtype")
        if subtype == "session_state_changed":
            return message.get("state") == "running"
        if subtype == "status":
            return message.get("status") is not None
        return subtype not in _BOOKKEEPING_SYSTEM
    return True
