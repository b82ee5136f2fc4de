"""Presence: only what clients report counts, for --push-idle-seconds, on an injected clock."""

import pytest

from switchboard.hub.notifications import presence
from switchboard.hub.notifications.presence import PresenceBook


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_report_counts_for_idle_seconds_and_no_longer() -> None:
    clock = Clock()
    book = PresenceBook(60, clock)
    assert not book.watched("p1")  # nothing is assumed
    book.report("tab", ["p1", "p2"], visible=True)
    assert book.watched("p1") and book.watched("p2") and not book.watched("p3")
    clock.now += 59.9
    assert book.watched("p1")
    clock.now += 0.1
    assert not book.watched("p1")  # the client went quiet: gone


def test_a_fresh_report_replaces_the_last_and_keeps_it_alive() -> None:
    clock = Clock()
    book = PresenceBook(60, clock)
    book.report("tab", ["p1"], visible=True)
    clock.now += 50
    book.report("tab", ["p2"], visible=True)
    clock.now += 50
    assert book.watched("p2") and not book.watched("p1")


def test_hidden_or_gone_ends_presence_at_once_but_not_another_clients() -> None:
    clock = Clock()
    book = PresenceBook(60, clock)
    book.report("tab", ["p1"], visible=True)
    book.report("phone", ["p1"], visible=True)
    book.report("tab", ["p1"], visible=False)
    assert book.watched("p1")  # the phone still shows it
    book.forget("phone")
    assert not book.watched("p1")
    book.forget("never-reported")  # harmless


def test_stale_reports_are_dropped() -> None:
    clock = Clock()
    book = PresenceBook(10, clock)
    for n in range(100):
        book.report(f"tab{n}", ["p1"], visible=True)
    clock.now += 10
    book.report("last", ["p2"], visible=True)
    assert len(book._reports) == 1


def test_the_reports_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(presence, "MAX_REPORTERS", 3)
    clock = Clock()
    book = PresenceBook(60, clock)
    for n in range(4):
        clock.now += 1
        book.report(f"tab{n}", [f"p{n}"], visible=True)
    assert [book.watched(f"p{n}") for n in range(4)] == [False, True, True, True]
