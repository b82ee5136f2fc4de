"""ConnectionLimits and ThrottledLog as plain objects: who gets a place, who is pushed
out, what gets logged (no sockets; the clock is injected)."""

import logging

import pytest

from switchboard.server.connections import ConnectionLimits, Slot, ThrottledLog

pytestmark = pytest.mark.timeout(10)

LOG = logging.getLogger("test.connections")


class Closable:
    """Stands for a connection's transport."""

    def __init__(self) -> None:
        self.closed = 0

    def __call__(self) -> None:
        self.closed += 1


def admitted(limits: ConnectionLimits, address: str, port: int) -> tuple[Slot, Closable]:
    slot = limits.admit((address, port))
    assert slot is not None
    close = Closable()
    slot.attach(close)
    return slot, close


def test_a_full_address_makes_room_by_closing_its_own_oldest_unauthenticated() -> None:
    limits = ConnectionLimits(max_total=100, max_per_client=3, logger=LOG)
    neighbour, neighbour_close = admitted(limits, "10.0.0.9", 1)
    _trusted, trusted_close = admitted(limits, "10.0.0.1", 1)
    limits.authenticate(("10.0.0.1", 1))
    oldest, oldest_close = admitted(limits, "10.0.0.1", 2)
    _newer, newer_close = admitted(limits, "10.0.0.1", 3)

    newest, _ = admitted(limits, "10.0.0.1", 4)

    assert oldest_close.closed == 1 and oldest.closed
    assert trusted_close.closed == newer_close.closed == neighbour_close.closed == 0
    assert limits.count("10.0.0.1") == 3 and len(limits) == 4
    assert limits.evicted == 1 and not newest.closed and not neighbour.closed


def test_the_overall_cap_closes_the_oldest_unauthenticated_of_any_address() -> None:
    limits = ConnectionLimits(max_total=3, max_per_client=3, logger=LOG)
    _trusted, trusted_close = admitted(limits, "10.0.0.1", 1)
    limits.authenticate(("10.0.0.1", 1))
    _first, first_close = admitted(limits, "10.0.0.2", 1)
    _second, second_close = admitted(limits, "10.0.0.3", 1)

    admitted(limits, "10.0.0.4", 1)

    assert first_close.closed == 1 and limits.count("10.0.0.2") == 0
    assert trusted_close.closed == second_close.closed == 0 and len(limits) == 3


def test_when_all_are_authenticated_a_newcomer_is_refused_until_one_leaves() -> None:
    limits = ConnectionLimits(max_total=10, max_per_client=2, logger=LOG)
    first, first_close = admitted(limits, "10.0.0.1", 1)
    _second, _ = admitted(limits, "10.0.0.1", 2)
    limits.authenticate(("10.0.0.1", 1))
    limits.authenticate(("10.0.0.1", 2))

    assert limits.admit(("10.0.0.1", 3)) is None
    assert limits.refused == 1 and first_close.closed == 0
    assert limits.admit(("10.0.0.2", 1)) is not None  # another address still gets in

    first.release()
    first.release()  # idempotent
    assert limits.count("10.0.0.1") == 1
    assert limits.admit(("10.0.0.1", 3)) is not None


def test_a_slot_pushed_out_before_its_transport_exists_closes_it_on_arrival() -> None:
    limits = ConnectionLimits(max_total=1, max_per_client=1, logger=LOG)
    early = limits.admit(("10.0.0.1", 1))
    assert early is not None
    admitted(limits, "10.0.0.1", 2)
    close = Closable()
    early.attach(close)
    assert close.closed == 1
    early.release()  # its connection_lost comes later: no double count
    assert len(limits) == 1


def test_unknown_peers_and_repeat_authentications_change_nothing() -> None:
    limits = ConnectionLimits(max_total=2, max_per_client=2, logger=LOG)
    slot, _ = admitted(limits, "10.0.0.1", 1)
    limits.authenticate(("testclient", 50000))
    limits.authenticate(None)
    assert limits.unauthenticated == 1
    limits.authenticate(("10.0.0.1", 1))
    limits.authenticate(("10.0.0.1", 1))
    assert limits.unauthenticated == 0 and not slot.closed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_throttled_log_says_once_per_interval_how_many_it_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    throttled = ThrottledLog(LOG, logging.WARNING, interval=60, clock=clock)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        throttled("out of files")
        for _ in range(1000):
            clock.now += 0.01
            throttled("out of files")
        throttled.flush()  # the interval is not over: nothing yet
        assert [r.getMessage() for r in caplog.records] == ["out of files"]
        clock.now += 60
        throttled.flush()
        throttled.flush()
    assert [r.getMessage() for r in caplog.records] == [
        "out of files",
        "out of files (1000 more like this in the last 70 s were not logged)",
    ]


def test_a_throttled_log_logs_the_next_event_after_a_quiet_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    throttled = ThrottledLog(LOG, logging.INFO, interval=10, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        throttled("a")
        clock.now += 1
        throttled("b")
        clock.now += 10
        throttled("c")
        throttled.flush_now()  # nothing left out since "c"
    assert [r.getMessage() for r in caplog.records] == [
        "a",
        "c (1 more like this in the last 10 s were not logged)",
    ]
