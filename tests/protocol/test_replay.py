"""The replay cursor: unit cases, and a property test of any interleaving of appends,
reads, live deliveries, disconnects and reconnects."""

from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.protocol.replay import ReplayCursor, ReplayGapError


@dataclass(frozen=True)
class Ev:
    seq: int


def evs(*seqs: int) -> list[Ev]:
    return [Ev(s) for s in seqs]


def test_history_then_live() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=2)
    assert cursor.wants_read() == 2
    assert cursor.on_stored(evs(3, 4), exhausted=True) == evs(3, 4)
    assert cursor.live and cursor.wants_read() is None
    assert cursor.on_live(Ev(5)) == evs(5)


def test_live_events_during_replay_are_held_then_joined_without_duplicates() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=0)
    assert cursor.on_live(Ev(3)) == []  # arrives while history is being read
    assert cursor.on_live(Ev(4)) == []
    assert cursor.on_stored(evs(1, 2, 3), exhausted=True) == evs(1, 2, 3, 4)
    assert cursor.live


def test_a_hole_between_history_and_held_events_needs_another_read() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=0)
    cursor.on_live(Ev(5))
    assert cursor.on_stored(evs(1, 2), exhausted=True) == evs(1, 2)
    assert not cursor.live and cursor.wants_read() == 2
    assert cursor.on_stored(evs(3, 4, 5), exhausted=True) == evs(3, 4, 5)
    assert cursor.live


def test_overflowing_the_buffer_drops_to_the_store_but_loses_nothing() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=0, max_pending=2)
    for seq in (1, 2, 3, 4):
        cursor.on_live(Ev(seq))  # 3 and 4 do not fit
    assert cursor.on_stored([], exhausted=True) == evs(1, 2)
    assert not cursor.live  # 3 and 4 were dropped: read them
    assert cursor.on_stored(evs(3, 4), exhausted=True) == evs(3, 4)
    assert cursor.live


def test_a_hole_in_live_delivery_falls_back_to_the_store() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=0)
    cursor.on_stored([], exhausted=True)
    assert cursor.on_live(Ev(2)) == []
    assert cursor.wants_read() == 0
    assert cursor.on_stored(evs(1, 2), exhausted=True) == evs(1, 2)


def test_duplicates_are_dropped_in_every_mode() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=5)
    assert cursor.on_live(Ev(4)) == []
    assert cursor.on_stored(evs(5, 6), exhausted=True) == evs(6)
    assert cursor.on_live(Ev(6)) == []


def test_a_damaged_store_is_reported() -> None:
    cursor: ReplayCursor[Ev] = ReplayCursor(since=0)
    with pytest.raises(ReplayGapError):
        cursor.on_stored(evs(1, 3), exhausted=True)


@dataclass
class World:
    """A log, a hub that publishes each event some time after storing it (so a replay
    read may see it first), and one subscriber that keeps what it receives across
    connections."""

    log: list[Ev] = field(default_factory=list)
    unpublished: list[Ev] = field(default_factory=list)
    received: list[Ev] = field(default_factory=list)
    cursor: ReplayCursor[Ev] | None = None
    read_in_flight: tuple[list[Ev], bool] | None = None
    max_pending: int = 3

    def since(self) -> int:
        return self.received[-1].seq if self.received else 0

    def deliver(self, events: list[Ev]) -> None:
        self.received += events

    def append(self) -> None:
        event = Ev(len(self.log) + 1)
        self.log.append(event)
        self.unpublished.append(event)

    def publish(self) -> None:
        """The hub fans out the oldest stored event (always in seq order)."""
        if self.unpublished:
            event = self.unpublished.pop(0)
            if self.cursor is not None:
                self.deliver(self.cursor.on_live(event))

    def connect(self) -> None:
        if self.cursor is None:
            self.cursor = ReplayCursor(self.since(), self.max_pending)
            self.read_in_flight = None

    def disconnect(self) -> None:
        self.cursor = None
        self.read_in_flight = None

    def read_start(self, limit: int) -> None:
        if self.cursor is None or self.read_in_flight is not None:
            return
        after = self.cursor.wants_read()
        if after is not None:
            batch = self.log[after : after + limit]
            self.read_in_flight = (batch, len(batch) < limit)

    def read_finish(self) -> None:
        if self.cursor is not None and self.read_in_flight is not None:
            batch, exhausted = self.read_in_flight
            self.read_in_flight = None
            self.deliver(self.cursor.on_stored(batch, exhausted))

    def settle(self) -> None:
        """Connect if needed and read until live: the subscriber has caught up."""
        self.connect()
        while self.unpublished:
            self.publish()
        assert self.cursor is not None
        for _ in range(10_000):
            if self.cursor.live:
                return
            self.read_start(limit=4)
            self.read_finish()
        raise AssertionError("the cursor never went live")


steps = st.lists(
    st.one_of(
        st.just(("append", 0)),
        st.just(("publish", 0)),
        st.tuples(st.just("read_start"), st.integers(min_value=1, max_value=6)),
        st.just(("read_finish", 0)),
        st.just(("disconnect", 0)),
        st.just(("connect", 0)),
    ),
    max_size=120,
)


@settings(max_examples=400, deadline=None)
@given(steps=steps, max_pending=st.integers(min_value=1, max_value=5))
def test_any_interleaving_gives_every_event_once_in_order(
    steps: list[tuple[str, int]], max_pending: int
) -> None:
    world = World(max_pending=max_pending)
    world.connect()
    for action, limit in steps:
        if action == "read_start":
            world.read_start(limit)
        else:
            getattr(world, action)()
        seqs = [e.seq for e in world.received]
        assert seqs == list(range(1, len(seqs) + 1)), "a gap or a duplicate on the way"
    world.settle()
    world.append()  # and live delivery works once caught up
    world.publish()
    assert [e.seq for e in world.received] == list(range(1, len(world.log) + 1))
