"""Who is looking: the projects clients say they show to a person now.

Presence is only ever reported, never assumed from an open connection: a client sends
``presence {projects, visible: true}`` while a person can see those projects (the web
UI: while its page is visible and focused), and again before ``idle_seconds`` pass.
``visible: false``, or the client leaving, ends its presence at once; a client that
just goes quiet (a laptop asleep, a dropped network) counts as gone ``idle_seconds``
after its last report. Time comes from an injected clock (tests need no waiting).
"""

import time
from collections.abc import Callable, Iterable

MAX_REPORTERS = 10_000
"""Reports kept at most (one per reporting connection, and connections are capped too);
beyond it the oldest is dropped."""


class PresenceBook:
    """The latest report of each client (one entry per reporting connection)."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._reports: dict[object, tuple[frozenset[str], float]] = {}

    def report(self, reporter: object, project_ids: Iterable[str], visible: bool) -> None:
        """``reporter`` (its connection) shows these projects now, or stopped showing
        anything (``visible`` false). A report replaces the reporter's previous one."""
        self._drop_stale()
        if visible:
            if reporter not in self._reports and len(self._reports) >= MAX_REPORTERS:
                del self._reports[min(self._reports, key=lambda r: self._reports[r][1])]
            self._reports[reporter] = (frozenset(project_ids), self._clock())
        else:
            self._reports.pop(reporter, None)

    def forget(self, reporter: object) -> None:
        """The reporter left (its connection closed)."""
        self._reports.pop(reporter, None)

    def watched(self, project_id: str) -> bool:
        """Whether some client showed the project within the last ``idle_seconds``."""
        now = self._clock()
        return any(
            project_id in projects and now - at < self.idle_seconds
            for projects, at in self._reports.values()
        )

    def _drop_stale(self) -> None:
        now = self._clock()
        stale = [r for r, (_, at) in self._reports.items() if now - at >= self.idle_seconds]
        for reporter in stale:
            del self._reports[reporter]
