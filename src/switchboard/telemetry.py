"""One server's metrics (``GET /metrics``): a Prometheus registry of its own, the
counters and histograms the layers feed where each thing happens, and plain tallies
for the hot paths.

A neutral module, like :mod:`switchboard.log_format`: the store, the hub and the server
may all import it, and it imports none of them. The composition root makes one
:class:`Telemetry` per server and hands it to the stores and the hub; the server finds
it on the hub facade and adds the gauges it reads at scrape time (connections,
subscribers, queues, pending confirmations), so that nothing is counted twice.

Each server has its own registry, never prometheus_client's global one: several hubs in
one process (tests, an embedding program) do not clash.

The event paths are benchmarked, so they only add to plain ints
(:class:`Tallies`), read when someone scrapes; everything else is rare enough (a run
ends, a confirmation is answered, a transaction commits) to use prometheus_client's own
metrics. Every name is listed in docs/operations.md (a test checks it).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

FINAL_RUN_STATES = ("completed", "failed", "cancelled", "interrupted")
TOKEN_TYPES = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_input_tokens": "cache_creation_input",
    "cache_read_input_tokens": "cache_read_input",
}
"""The counts of a run's ``usage`` that are tokens, and their ``type`` label."""

RUN_SECONDS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
ANSWER_SECONDS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
WRITE_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
LAG_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Tallies:
    """Counts the hot paths add to (one ``+=`` each); read at scrape time."""

    __slots__ = ("events_appended", "events_delivered", "events_replayed")

    def __init__(self) -> None:
        self.events_appended = 0
        """Events committed to a project's log."""
        self.events_delivered = 0
        """Committed events handed to a live subscriber (once per subscriber)."""
        self.events_replayed = 0
        """Stored events sent to a subscriber catching up from its ``since``."""


class _TallyCollector(Collector):
    def __init__(self, tallies: Tallies) -> None:
        self._tallies = tallies

    def collect(self) -> Iterable[Metric]:
        tallies = self._tallies
        yield CounterMetricFamily(
            "switchboard_events_appended",
            "Events committed to the projects' event logs.",
            value=tallies.events_appended,
        )
        delivered = CounterMetricFamily(
            "switchboard_events_delivered",
            "Stored events handed to subscribers: live as they are committed (once per "
            "subscriber), or replayed from the log to one catching up.",
            labels=["path"],
        )
        delivered.add_metric(["live"], tallies.events_delivered)
        delivered.add_metric(["replay"], tallies.events_replayed)
        yield delivered


class Telemetry:
    """The registry of one server and what the layers record in it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tallies = Tallies()
        registry = self.registry
        registry.register(_TallyCollector(self.tallies))
        ProcessCollector(registry=registry)
        self.slow_consumer_closes = Counter(
            "switchboard_slow_consumer_closes",
            "/ws connections closed as slow consumers (4008).",
            registry=registry,
        )
        self._runs_finished = Counter(
            "switchboard_runs_finished",
            "Runs that ended, by how they ended.",
            ["state"],
            registry=registry,
        )
        for state in FINAL_RUN_STATES:
            self._runs_finished.labels(state)
        self._run_seconds = Histogram(
            "switchboard_run_duration_seconds",
            "How long runs took, from start to end (runs that started).",
            buckets=RUN_SECONDS,
            registry=registry,
        )
        self._cost = Counter(
            "switchboard_cost_usd",
            "What the projects' runs cost, in US dollars, as the agent reported it.",
            ["project"],
            registry=registry,
        )
        self._tokens = Counter(
            "switchboard_tokens",
            "Tokens the projects' runs used, by type.",
            ["project", "type"],
            registry=registry,
        )
        self._answered = Counter(
            "switchboard_confirmations_answered",
            "Confirmations answered, by kind and by whom (a client, or a remembered rule).",
            ["kind", "by"],
            registry=registry,
        )
        self._expired = Counter(
            "switchboard_confirmations_expired",
            "Confirmations that ended without an answer, by kind and why.",
            ["kind", "reason"],
            registry=registry,
        )
        self._answer_seconds = Histogram(
            "switchboard_confirmation_answer_seconds",
            "How long a client took to answer a confirmation, pauses included.",
            ["kind"],
            buckets=ANSWER_SECONDS,
            registry=registry,
        )
        self.store_write_seconds = Histogram(
            "switchboard_store_write_seconds",
            "How long each transaction of the store's writer thread took.",
            buckets=WRITE_SECONDS,
            registry=registry,
        )
        self.event_loop_lag_seconds = Histogram(
            "switchboard_event_loop_lag_seconds",
            "How late the event loop woke a periodic timer (its sleep's overshoot).",
            buckets=LAG_SECONDS,
            registry=registry,
        )

    def add_collector(self, collector: Collector) -> None:
        """Metrics read at scrape time (the server's gauges)."""
        self.registry.register(collector)

    def run_finished(
        self,
        project: str,
        state: str,
        seconds: float | None,
        cost_usd: float | None,
        usage: Mapping[str, Any] | None,
    ) -> None:
        """A run's end was recorded (``project``: its name)."""
        self._runs_finished.labels(state).inc()
        if seconds is not None:
            self._run_seconds.observe(max(0.0, seconds))
        if cost_usd is not None and cost_usd > 0:
            self._cost.labels(project).inc(cost_usd)
        for key, kind in TOKEN_TYPES.items():
            count = (usage or {}).get(key)
            if isinstance(count, int) and not isinstance(count, bool) and count > 0:
                self._tokens.labels(project, kind).inc(count)

    def confirmation_answered(self, kind: str, by: str, waited: float) -> None:
        """``waited``: seconds since it was asked (a client's answer: a person's time)."""
        self._answered.labels(kind, by).inc()
        if by == "client":
            self._answer_seconds.labels(kind).observe(max(0.0, waited))

    def confirmation_expired(self, kind: str, reason: str) -> None:
        self._expired.labels(kind, reason).inc()

    def forget_project(self, project: str) -> None:
        """A project was removed: drop its series (their number would grow otherwise)."""
        self._cost.remove(project)
        for kind in TOKEN_TYPES.values():
            self._tokens.remove(project, kind)
