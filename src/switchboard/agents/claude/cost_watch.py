"""What the turn under way has cost so far, while it runs (pure; no I/O).

The CLI reports cost only in a turn's ``result``, and a turn may make many model calls
before it. Its control request ``get_usage`` answers at once, even while a tool runs,
with ``session.total_cost_usd``: the process's running total, which already counts the
model call whose reply was just printed (checked with CLI 2.1.197 and 2.1.330, against
the scripted model's usage figures). :class:`CostWatch` decides when to ask (after a
line of a model reply or of a tool result), keeps one question out at a time, and turns
each answer into the turn's own cost so far (the total minus the process's total when
its last turn ended). The driver reports that as
:class:`~switchboard.agents.base.CostSoFar`, and keeps the question and its answer out
of the log (they are Switchboard's own traffic, like the ``initialize`` answer).

The CLI's own ``--max-budget-usd`` is no substitute: it is fixed at launch and counts
the whole process's spend, while one process serves many runs.
"""

import logging
from collections.abc import Mapping
from typing import Any

from switchboard.agents.claude.metrics import finite_number

log = logging.getLogger(__name__)

REQUEST = "get_usage"
REQUEST_FIELDS: dict[str, Any] = {"detached": True, "skip_behaviors": True}
"""Asked this way, 2.1.330 answers on a lane of its own, without the slower parts of
the answer (2.1.197 ignores both fields)."""
ASKING_LINES = frozenset({"assistant", "user"})
"""Lines after which the turn may have cost more: a model reply, a tool's result."""


class CostWatch:
    """One CLI process's questions about what its turn has cost so far."""

    def __init__(self) -> None:
        self._asking: str | None = None
        """The request out, if any."""
        self._stale: str | None = None
        """A request still out when its turn ended: its answer, if it comes, is dropped
        (and the next turn asks afresh instead of waiting for it)."""
        self._asked_in = 0
        """The turn the request out was asked in."""
        self._turn = 0
        """Turns ended so far."""
        self._wanted = False
        """A line came since the last question: ask (again)."""
        self._refused = False

    def saw(self, message: Mapping[str, Any]) -> None:
        """Note a line of the CLI (in order)."""
        if message.get("type") in ASKING_LINES:
            self._wanted = True
        elif message.get("type") == "result":
            self._turn += 1
            self._wanted = False
            if self._asking is not None:
                self._stale, self._asking = self._asking, None

    def should_ask(self) -> bool:
        """Whether to ask now (something changed, and no question is out)."""
        return self._wanted and self._asking is None and not self._refused

    def asked(self, request_id: str) -> None:
        self._asking = request_id
        self._asked_in = self._turn
        self._wanted = False

    def is_answer(self, message: Mapping[str, Any]) -> bool:
        """Whether a ``control_response`` line answers our question."""
        if message.get("type") != "control_response":
            return False
        response = message.get("response")
        if not isinstance(response, Mapping):
            return False
        answers = response.get("request_id")
        return answers is not None and answers in (self._asking, self._stale)

    def answer(self, message: Mapping[str, Any], process_cost: float) -> float | None:
        """The turn's cost so far from our question's answer (``process_cost``: the
        process's total when its last turn ended); None when the answer says nothing
        of the turn under way (it came after its turn ended, or the CLI refused: then
        it is not asked again)."""
        response = message.get("response")
        body = response if isinstance(response, Mapping) else {}
        if body.get("request_id") == self._stale:
            self._stale = None
            return None
        asked_in, self._asking = self._asked_in, None
        if body.get("subtype") != "success":
            log.warning(
                "the CLI refused %s (%s): budgets are checked only when a turn ends",
                REQUEST,
                body.get("error"),
            )
            self._refused = True
            return None
        payload = body.get("response")
        session = payload.get("session") if isinstance(payload, Mapping) else None
        total = (
            finite_number(session.get("total_cost_usd")) if isinstance(session, Mapping) else None
        )
        if total is None or asked_in != self._turn:
            return None
        return max(round(total - process_cost, 12), 0.0)
