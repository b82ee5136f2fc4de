"""How long each run has had a confirmation waiting for a person: its ``--run-timeout``
clock stops meanwhile (a person may take a confirmation's whole timeout to answer)."""

import asyncio


class WaitClock:
    """Per run: the seconds spent with at least one confirmation pending."""

    def __init__(self) -> None:
        self._waited: dict[str, tuple[float, float | None]] = {}  # run → (total, since)
        self._count: dict[str, int] = {}

    def note(self, run_id: str | None, change: int) -> None:
        """A confirmation of the run opened (+1) or ended (-1)."""
        if run_id is None:
            return
        now = asyncio.get_running_loop().time()
        total, since = self._waited.get(run_id, (0.0, None))
        count = self._count.get(run_id, 0) + change
        self._count[run_id] = count
        if count > 0 and since is None:
            since = now
        elif count == 0 and since is not None:
            total, since = total + now - since, None
        self._waited[run_id] = (total, since)

    def seconds(self, run_id: str) -> float:
        total, since = self._waited.get(run_id, (0.0, None))
        if since is not None:
            total += asyncio.get_running_loop().time() - since
        return total

    def forget(self, run_id: str) -> None:
        self._waited.pop(run_id, None)
        self._count.pop(run_id, None)
