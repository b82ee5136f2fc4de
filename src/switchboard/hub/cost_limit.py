"""What one run may cost (see :mod:`switchboard.hub.budgets`), in a module of its own
so that a run can carry its limit."""

from dataclasses import dataclass
from typing import Final

BUDGET_EXCEEDED: Final = "budget_exceeded"
"""The error code of a prompt refused over budget, and how the error of a run stopped
or refused over budget begins."""


def usd(amount: float) -> str:
    """An amount for people: ``$0.60``, ``$1.0525``, ``$0.0004``."""
    whole, _, cents = f"{amount:.4f}".partition(".")
    return f"${whole}.{cents.rstrip('0').ljust(2, '0')}"


@dataclass(frozen=True, slots=True)
class CostLimit:
    """What one run may cost, and which budget says so."""

    amount: float
    """In USD."""
    words: str
    """The budget, in words ("its per-run budget of $0.50")."""

    def passed_by(self, cost: float) -> str | None:
        """Why a run that has cost ``cost`` is stopped (None: it is within the limit)."""
        if cost <= self.amount:
            return None
        return (
            f"{BUDGET_EXCEEDED}: the run had cost {usd(cost)}, more than {self.words}; "
            "it was stopped"
        )
