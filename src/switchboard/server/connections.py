"""Caps on open connections, counted from the moment they are accepted (pure, no I/O).

Every accepted connection holds a :class:`Slot` until it closes. A connection is
*unauthenticated* until a request on it presents a valid token, then *authenticated*
for the rest of its life. Unauthenticated connections go first:

* when an address already holds ``max_per_client`` connections, or the server
  ``max_total``, a new connection closes the oldest unauthenticated one (of that
  address, then of any) to take its place;
* only when every connection counted against the cap is authenticated is the new one
  refused (the acceptor answers it with HTTP 503).

So a flood of connections that never authenticate (idle sockets, half-sent requests)
pushes out its own oldest members and never the clients holding the token, and a
client that connects during the flood gets in and has until ``max_per_client`` newer
connections arrive to present its token. On a server bound to 127.0.0.1 every client
shares one address: there, this ordering is what keeps the door open.

:class:`ThrottledLog` keeps what a flood makes the server say down to a line per
interval, with a count of what it left out.
"""

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

Peer = tuple[str, int]
"""A connection's remote (address, port), as accept() and ASGI's ``client`` give it."""

LOG_INTERVAL = 60.0
"""Seconds between two log lines about the same kind of connection trouble."""


class ThrottledLog:
    """Log one kind of event at most once per ``interval``; count the others, and say
    how many there were in the next line (or in :meth:`flush`, once the interval is over).
    """

    def __init__(
        self,
        logger: logging.Logger,
        level: int,
        interval: float = LOG_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._level = level
        self._interval = interval
        self._clock = clock
        self._next = float("-inf")
        self._suppressed = 0
        self._last = ""
        self._since = 0.0

    @property
    def suppressed(self) -> int:
        return self._suppressed

    def __call__(self, message: str) -> None:
        now = self._clock()
        if now < self._next:
            if not self._suppressed:
                self._since = now
            self._suppressed += 1
            self._last = message
            return
        self._emit(message, now)

    def flush(self) -> None:
        """Report what was left out, once the interval since the last line is over."""
        now = self._clock()
        if self._suppressed and now >= self._next:
            self._emit(self._last, now)

    def flush_now(self) -> None:
        """Report what was left out, whatever the time (the episode is over)."""
        if self._suppressed:
            self._emit(self._last, self._clock())

    def _emit(self, message: str, now: float) -> None:
        if self._suppressed:
            message += (
                f" ({self._suppressed} more like this in the last {now - self._since:.0f} s "
                "were not logged)"
            )
        self._logger.log(self._level, message)
        self._suppressed = 0
        self._next = now + self._interval


class Slot:
    """One open connection's place under the caps."""

    __slots__ = ("_close", "_owner", "address", "authenticated", "closed", "peer")

    def __init__(self, owner: "ConnectionLimits", peer: Peer) -> None:
        self._owner = owner
        self.peer = peer
        self.address = peer[0]
        self.authenticated = False
        self.closed = False
        """Released: closed by its client, timed out, or pushed out to make room."""
        self._close: Callable[[], None] | None = None

    def attach(self, close: Callable[[], None]) -> None:
        """The connection's transport exists: ``close`` closes it. A slot pushed out
        before that closes it at once."""
        if self.closed:
            close()
        else:
            self._close = close

    def release(self) -> None:
        """The connection is gone (idempotent)."""
        self._owner.release(self)

    def _evict(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()


class ConnectionLimits:
    """Count open connections, overall and per address; decide who gets in."""

    def __init__(self, max_total: int, max_per_client: int, logger: logging.Logger) -> None:
        self.max_total = max_total
        self.max_per_client = max_per_client
        self._by_peer: dict[Peer, Slot] = {}
        self._per_address: dict[str, int] = {}
        self._waiting: OrderedDict[Slot, None] = OrderedDict()
        """Unauthenticated slots, oldest first."""
        self._waiting_by_address: dict[str, OrderedDict[Slot, None]] = {}
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0
        self.log_evicted = ThrottledLog(logger, logging.WARNING)
        self.log_refused = ThrottledLog(logger, logging.WARNING)
        self.log_timed_out = ThrottledLog(logger, logging.INFO)

    def __len__(self) -> int:
        return len(self._by_peer)

    def count(self, address: str) -> int:
        return self._per_address.get(address, 0)

    @property
    def unauthenticated(self) -> int:
        return len(self._waiting)

    def admit(self, peer: Peer) -> Slot | None:
        """A slot for a connection just accepted from ``peer``, making room by closing
        an older unauthenticated one if need be; None: refuse it."""
        address = peer[0]
        if self.count(address) >= self.max_per_client and not self._evict_oldest(address):
            self._refuse(peer, f"{address} has {self.max_per_client}")
            return None
        if len(self._by_peer) >= self.max_total and not self._evict_oldest(None):
            self._refuse(peer, f"the server has {self.max_total}")
            return None
        slot = Slot(self, peer)
        previous = self._by_peer.get(peer)
        if previous is not None:  # its close is still on its way: forget it now
            self.release(previous)
        self._by_peer[peer] = slot
        self._per_address[address] = self.count(address) + 1
        self._waiting[slot] = None
        self._waiting_by_address.setdefault(address, OrderedDict())[slot] = None
        return slot

    def authenticate(self, peer: object) -> None:
        """A request on the connection from ``peer`` presented a valid token."""
        slot = self._by_peer.get(peer) if isinstance(peer, tuple) else None
        if slot is not None and not slot.authenticated:
            slot.authenticated = True
            self._unwait(slot)

    def release(self, slot: Slot) -> None:
        if slot.closed:
            return
        slot.closed = True
        if self._by_peer.get(slot.peer) is slot:
            del self._by_peer[slot.peer]
        remaining = self._per_address.get(slot.address, 1) - 1
        if remaining > 0:
            self._per_address[slot.address] = remaining
        else:
            self._per_address.pop(slot.address, None)
        if not slot.authenticated:
            self._unwait(slot)

    def note_timed_out(self, slot: Slot, seconds: float) -> None:
        self.timed_out += 1
        self.log_timed_out(
            f"closed a connection from {slot.address} that sent no complete request "
            f"within {seconds:g} s (see --handshake-timeout)"
        )

    def flush_logs(self) -> None:
        for throttled in (self.log_evicted, self.log_refused, self.log_timed_out):
            throttled.flush()

    def _unwait(self, slot: Slot) -> None:
        self._waiting.pop(slot, None)
        of_address = self._waiting_by_address.get(slot.address)
        if of_address is not None:
            of_address.pop(slot, None)
            if not of_address:
                del self._waiting_by_address[slot.address]

    def _evict_oldest(self, address: str | None) -> bool:
        """Close the oldest unauthenticated connection (of ``address``, or of any);
        False when there is none."""
        waiting = self._waiting if address is None else self._waiting_by_address.get(address)
        if not waiting:
            return False
        victim = next(iter(waiting))
        self.release(victim)
        victim._evict()
        self.evicted += 1
        cap = (
            f"--max-connections-per-client {self.max_per_client}"
            if address is not None
            else f"--max-connections {self.max_total}"
        )
        self.log_evicted(
            f"too many connections ({cap}): closed the oldest unauthenticated one, "
            f"from {victim.address}, to make room"
        )
        return True

    def _refuse(self, peer: Peer, holder: str) -> None:
        self.refused += 1
        self.log_refused(
            f"refused a connection from {peer[0]} with 503: {holder} open connections, "
            "all authenticated (see --max-connections, --max-connections-per-client)"
        )
