"""Alerts for a person who is away: when something needs them, or a run ended, and no
client shows that project, tell them through the senders (Web Push, ``--notify-url``).

What raises an alert:

- a confirmation opens (a tool permission, a plan, an approval: ``confirmation``; an
  ``AskUserQuestion`` or a skill's question: ``question``), unless a remembered rule
  answers it at once;
- a run's end is recorded as ``completed`` or ``failed`` (``cancelled`` came from a
  client, ``interrupted`` from the server stopping: neither is pushed).

Whether to send is decided once, when it happens: if a client reported within
``--push-idle-seconds`` that it shows the project (:class:`PresenceBook`), nothing is
sent. Senders return at once (they queue their work); an alert is never awaited by
the run or the confirmation it is about.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from switchboard.hub.notifications.alert_texts import confirmation_alert, fitted, run_alert
from switchboard.hub.notifications.presence import PresenceBook
from switchboard.protocol.messages import ConfirmationInfo, RunInfo
from switchboard.protocol.push import Alert

log = logging.getLogger(__name__)

CONFIRMATION_TTL = 3600
"""Seconds a push service keeps a question for a browser that is offline (no longer
than the question waits for its answer)."""
RUN_TTL = 86400
"""The same for a run's end."""
CLOSE_SECONDS = 5.0
"""At shutdown, how long sends under way get to finish."""


class AlertSink(Protocol):
    """Somewhere alerts go (Web Push, a webhook)."""

    def send(self, alert: Alert, ttl: int) -> None:
        """Queue the alert (``ttl``: seconds it is worth delivering); return at once."""
        ...

    async def aclose(self, close_timeout: float) -> None: ...


class Alerts:
    """The hub's part that decides what to tell people who are away."""

    def __init__(
        self,
        idle_seconds: float,
        project_name: Callable[[str], str | None],
        sinks: Sequence[AlertSink] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``project_name(id)``: the project's name (None: it is gone, say nothing)."""
        self.presence = PresenceBook(idle_seconds)
        self._project_name = project_name
        self._sinks = tuple(sinks)
        self._clock = clock
        self.sent = 0
        self.suppressed = 0
        """Alerts not sent because a client showed the project (for tests and logs)."""

    def report_presence(self, reporter: object, project_ids: Iterable[str], visible: bool) -> None:
        self.presence.report(reporter, project_ids, visible)

    def forget_presence(self, reporter: object) -> None:
        self.presence.forget(reporter)

    def confirmation_opened(self, confirmation: ConfirmationInfo) -> None:
        name = self._project_name(confirmation.project)
        if name is None:
            return
        ttl = max(1, min(CONFIRMATION_TTL, int(confirmation.remaining_seconds)))
        self._raise(confirmation_alert(confirmation, name, self._clock()), ttl)

    def run_ended(self, run: RunInfo) -> None:
        name = self._project_name(run.project)
        alert = run_alert(run, name, self._clock()) if name is not None else None
        if alert is not None:
            self._raise(alert, RUN_TTL)

    def _raise(self, alert: Alert, ttl: int) -> None:
        if not self._sinks:
            return
        if self.presence.watched(alert.project):
            self.suppressed += 1
            log.debug("not pushed (a client shows %s): %s", alert.project_name, alert.title)
            return
        self.sent += 1
        alert = fitted(alert)
        for sink in self._sinks:
            try:
                sink.send(alert, ttl)
            except Exception:
                log.exception("an alert sender failed")

    async def aclose(self) -> None:
        """Give the sends under way a few seconds, then stop the senders."""
        await asyncio.gather(*(sink.aclose(CLOSE_SECONDS) for sink in self._sinks))
