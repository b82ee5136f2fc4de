"""The processes the hub launched on one remote agent. They outlive the agent's links:
when the link drops, a run goes on on the agent (its output waits in the agent's
spool), and its process is found again by its session key when the agent dials back
in, within the grace period.

What the agent says about its processes is numbered (``seq``, per spool). The hub
drops what it already has, and acknowledges in order what it has stored: output once
the project's log holds it, the rest once handled. The agent forgets what is
acknowledged; after a reconnect it sends the rest again.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from switchboard.agents.remote.driver import RemoteConnection

log = logging.getLogger(__name__)


class Receipts:
    """Which of the agent's numbered messages the hub has taken and finished."""

    def __init__(self) -> None:
        self.spool = ""
        self.highest = 0
        """The last seq taken: one at or below it is a message sent again."""
        self.frontier = 0
        """Every seq up to it is finished: what the hub acknowledges."""
        self._waiting: deque[int] = deque()
        self._done: set[int] = set()

    def start(self, spool: str) -> None:
        """A link of the agent came up; a new spool (the agent's data was reset) counts
        from the start again."""
        if spool != self.spool:
            self.spool, self.highest, self.frontier = spool, 0, 0
            self._waiting.clear()
            self._done.clear()

    def take(self, seq: int) -> bool:
        """A numbered message came; False if the hub has it already."""
        if seq <= self.highest:
            return False
        self.highest = seq
        self._waiting.append(seq)
        return True

    def finish(self, seq: int) -> int | None:
        """The message is stored (or handled); the new frontier if it moved."""
        self._done.add(seq)
        moved = False
        while self._waiting and self._waiting[0] in self._done:
            self.frontier = self._waiting.popleft()
            self._done.discard(self.frontier)
            moved = True
        return self.frontier if moved else None


class AgentSessions:
    def __init__(self, agent: str, grace: float) -> None:
        self.agent = agent
        self.grace = grace
        self.by_key: dict[str, RemoteConnection] = {}
        self.receipts = Receipts()
        self.send_ack: Callable[[int], None] | None = None
        """Acknowledges over the current link (None while there is none)."""
        self._expiry: asyncio.TimerHandle | None = None
        self._adopting: set[str] = set()
        """Processes an earlier hub left, taken back: the agent's next link adopts them."""

    def adopt(self, connection: RemoteConnection) -> None:
        """A process an earlier hub launched, taken back at start (before any link
        comes in): it waits for the agent for the grace period, like one whose link
        dropped."""
        self.by_key[connection.session] = connection
        self._adopting.add(connection.session)
        if self.send_ack is None and self._expiry is None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(self.grace, self._expire)

    def finisher(self, seq: int) -> Callable[[], None]:
        """What to call once the message ``seq`` is stored or handled."""

        def finished() -> None:
            frontier = self.receipts.finish(seq)
            if frontier is not None and self.send_ack is not None:
                self.send_ack(frontier)

        return finished

    def linked(
        self, spool: str, held: list[str], send_ack: Callable[[int], None]
    ) -> tuple[list[str], list[str]]:
        """The agent is back; ``held``: the sessions it still has. Processes it no
        longer has are lost now (it restarted). Returns the keys it has that the hub
        does not know (to be stopped on the agent), and those taken back after a hub
        restart (to be adopted: see :meth:`adopted`). Acknowledges nothing yet (the
        link's ``welcome`` goes first: see :meth:`acknowledge`)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self.receipts.start(spool)
        self.send_ack = send_ack
        kept = set(held)
        for key, connection in list(self.by_key.items()):
            if key not in kept:
                connection.on_exited(None, f"the agent {self.agent!r} no longer has it")
        self._adopting &= kept
        return [key for key in held if key not in self.by_key], sorted(self._adopting)

    def acknowledge(self) -> None:
        """Tell the agent (again) what the hub has, as a link comes up."""
        if self.receipts.frontier and self.send_ack is not None:
            self.send_ack(self.receipts.frontier)

    def adopted(self, key: str) -> None:
        """The agent took the adoption of ``key`` (else the next link tries again)."""
        self._adopting.discard(key)

    def unlinked(self) -> None:
        """The link dropped: its processes may go on for the grace period."""
        self.send_ack = None
        if self.by_key and self._expiry is None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(self.grace, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        why = f"the agent {self.agent!r} stayed away longer than {self.grace:g} s"
        for connection in list(self.by_key.values()):
            connection.on_exited(None, why)
