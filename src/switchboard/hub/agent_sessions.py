"""The processes the hub launched on one remote agent. They outlive the agent's links:
when the link drops, a run goes on on the agent (its output waits in the agent's
spool), and its process is found again by its session key when the agent dials back
in, within the grace period.

What the agent says about its processes is numbered (``seq``, per spool). The hub
drops what it already has, and acknowledges in order what it has stored: output once
the project's log holds it, the rest once handled. The agent forgets what is
acknowledged; after a reconnect it sends the rest again.

On a cluster's node an agent may link before the node has taken its projects over (a
node that died ran them): until then (:meth:`AgentSessions.hold`) what the agent says of
a process the node does not know yet is held, unacknowledged, and delivered once the
projects are settled here (:meth:`AgentSessions.settled`). Only then are the processes
still unknown stopped on the agent.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from switchboard.agents.remote.driver import RemoteConnection

log = logging.getLogger(__name__)

MAX_HELD_CHARS = 8 * 1024 * 1024
"""What the agent said of processes not known yet that a node holds while it takes the
agent's projects over; past it, the link stops reading until they are settled."""


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
        self.generation = 0
        """Counts the times it started again: a message taken before is not finished."""

    def start(self, spool: str) -> None:
        """A link of the agent came up; a new spool (the agent's data was reset) counts
        from the start again."""
        if spool != self.spool:
            self.spool, self.highest, self.frontier = spool, 0, 0
            self._waiting.clear()
            self._done.clear()
            self.generation += 1

    def forget(self) -> None:
        """Count from the start again, now and at the next link (this node lets some of
        the agent's processes go: what it took for them is for another node to store,
        and nothing taken so far may be acknowledged)."""
        self.spool, self.highest, self.frontier = "", 0, 0
        self._waiting.clear()
        self._done.clear()
        self.generation += 1

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
        self.send_adopt: Callable[[str], None] | None = None
        """Has the agent adopt a process over the current link (None while there is none)."""
        self._held_keys: list[str] = []
        """The sessions the agent said it has, as its current link came up."""
        self._holding: asyncio.Event | None = None
        """Set once the agent's projects are settled here (None: nothing is held)."""
        self._held: list[tuple[Any, Callable[[], None]]] = []
        self._held_chars = 0

    def adopt(self, connection: RemoteConnection) -> None:
        """A process an earlier hub launched, taken back at start (before any link
        comes in): it waits for the agent for the grace period, like one whose link
        dropped."""
        key = connection.session
        self.by_key[key] = connection
        self._adopting.add(key)
        if self.send_adopt is not None and self._holding is None:  # a link is up:
            if key in self._held_keys:
                self.send_adopt(key)  # adopt it now
            else:  # (the agent did not have it as the link came up)
                connection.on_exited(None, f"the agent {self.agent!r} no longer has it")
                self._adopting.discard(key)
        elif self.send_ack is None and self._expiry is None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(self.grace, self._expire)

    def finisher(self, seq: int) -> Callable[[], None]:
        """What to call once the message ``seq`` is stored or handled."""

        generation = self.receipts.generation

        def finished() -> None:
            if self.receipts.generation != generation:
                return  # taken before the count started again
            frontier = self.receipts.finish(seq)
            if frontier is not None and self.send_ack is not None:
                self.send_ack(frontier)

        return finished

    def linked(
        self,
        spool: str,
        held: list[str],
        send_ack: Callable[[int], None],
        send_adopt: Callable[[str], None] | None = None,
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
        self.send_adopt = send_adopt
        self._held_keys = list(held)
        kept = set(held)
        for key, connection in list(self.by_key.items()):
            if key not in kept:
                connection.on_exited(None, f"the agent {self.agent!r} no longer has it")
        self._adopting &= kept
        return [key for key in held if key not in self.by_key], sorted(self._adopting)

    def forget(self) -> None:
        """This node lets some of the agent's processes go (its link is ended first):
        the agent's messages count from the start again (see :meth:`Receipts.forget`),
        and what was held is dropped (the agent sends it again)."""
        self.receipts.forget()
        self.send_ack = self.send_adopt = None  # (until the next link)
        self._release_held()

    def acknowledge(self) -> None:
        """Tell the agent (again) what the hub has, as a link comes up."""
        if self.receipts.frontier and self.send_ack is not None:
            self.send_ack(self.receipts.frontier)

    def adopted(self, key: str) -> None:
        """The agent took the adoption of ``key`` (else the next link tries again)."""
        self._adopting.discard(key)

    # -- while a cluster's node takes the agent's projects over ------------------------

    def hold(self) -> None:
        """Hold what the agent says of processes not known here, until :meth:`settled`."""
        if self._holding is None:
            self._holding = asyncio.Event()

    @property
    def holding(self) -> bool:
        return self._holding is not None

    def keep(self, message: Any, chars: int, finished: Callable[[], None]) -> None:
        """Hold a message about a process not known yet (taken, not finished: the agent
        keeps it until it is)."""
        self._held.append((message, finished))
        self._held_chars += chars

    async def room(self) -> None:
        """Wait, while more than :data:`MAX_HELD_CHARS` is held, for the settling."""
        if self._holding is not None and self._held_chars > MAX_HELD_CHARS:
            await self._holding.wait()

    def settled(self) -> tuple[list[Any], list[str], list[str]]:
        """The agent's projects are settled here: the messages held (to deliver now, in
        order, with their finishers), the sessions it has that are still unknown (to
        stop) and those taken back (to adopt)."""
        held = self._release_held()
        has = set(self._held_keys)
        for key in sorted(self._adopting - has):  # taken back, and gone from the agent
            lost = self.by_key.get(key)
            if lost is not None:
                lost.on_exited(None, f"the agent {self.agent!r} no longer has it")
        self._adopting &= has
        strangers = [key for key in self._held_keys if key not in self.by_key]
        return held, strangers, sorted(self._adopting)

    def _release_held(self) -> list[tuple[Any, Callable[[], None]]]:
        held, self._held, self._held_chars = self._held, [], 0
        if self._holding is not None:
            self._holding.set()
            self._holding = None
        return held

    def unlinked(self) -> None:
        """The link dropped: its processes may go on for the grace period."""
        self.send_ack = None
        self.send_adopt = None
        if self.by_key and self._expiry is None:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(self.grace, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        why = f"the agent {self.agent!r} stayed away longer than {self.grace:g} s"
        for connection in list(self.by_key.values()):
            connection.on_exited(None, why)
