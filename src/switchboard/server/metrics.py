"""``GET /metrics``: the server's metrics in Prometheus' text format.

The counters and histograms live in the server's :class:`~switchboard.telemetry.Telemetry`
(on the hub facade), fed where each thing happens. The gauges here are read at scrape
time from what the server and the hub hold anyway (connections, subscribers, queues,
pending confirmations, processes, agents), so no second set of books can drift. The
event-loop lag is measured by :class:`LoopLag`, a task the server starts and stops.

Who may scrape is the security middleware's business: the API token, or the metrics
token, which opens this path and nothing else.
"""

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import get_args

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from switchboard import __version__
from switchboard.hub.hub import Hub
from switchboard.protocol.messages import ConfirmationKind
from switchboard.server.connections import ConnectionLimits
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.ws_agent import AgentLink
from switchboard.server.ws_claude import ClaudeSocketConnection
from switchboard.server.ws_hub import HubConnection

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""Prometheus' classic text format, which every scraper (and promtool) reads."""
LAG_INTERVAL = 0.5
"""Seconds between the event-loop lag probe's wake-ups."""
ENDPOINTS: tuple[tuple[type, str], ...] = (
    (HubConnection, "/ws"),
    (ClaudeSocketConnection, "/ws/claude"),
    (AgentLink, "/ws/agent"),
)


class ServerGauges(Collector):
    """What the server and the hub hold now, read at each scrape."""

    def __init__(
        self, hub: Hub, tracker: ConnectionTracker, limits: ConnectionLimits | None
    ) -> None:
        self._hub = hub
        self._tracker = tracker
        self._limits = limits

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "switchboard_build_info", "The server's version (always 1).", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info
        yield from self._connections()
        yield from self._projects()
        yield from self._hub_state()

    def _connections(self) -> Iterable[Metric]:
        sockets = GaugeMetricFamily(
            "switchboard_websocket_connections",
            "Open WebSocket connections, by endpoint.",
            labels=["endpoint"],
        )
        by_endpoint = Counter(_endpoint(c) for c in self._tracker.connections())
        for _kind, endpoint in ENDPOINTS:
            sockets.add_metric([endpoint], by_endpoint[endpoint])
        yield sockets
        limits = self._limits
        if limits is None:
            return
        open_now = GaugeMetricFamily(
            "switchboard_connections",
            "Open connections (HTTP and WebSocket, counted from accept), by whether they "
            "presented a valid token yet.",
            labels=["state"],
        )
        open_now.add_metric(["authenticated"], len(limits) - limits.unauthenticated)
        open_now.add_metric(["unauthenticated"], limits.unauthenticated)
        yield open_now
        dropped = CounterMetricFamily(
            "switchboard_connections_dropped",
            "Connections closed by the connection caps: to make room (evicted), refused "
            "with 503 (refused), or that sent no whole request in time (handshake_timeout).",
            labels=["reason"],
        )
        dropped.add_metric(["evicted"], limits.evicted)
        dropped.add_metric(["refused"], limits.refused)
        dropped.add_metric(["handshake_timeout"], limits.timed_out)
        yield dropped

    def _projects(self) -> Iterable[Metric]:
        hub = self._hub
        runs = GaugeMetricFamily(
            "switchboard_runs",
            "Runs now queued or running, per project (queued: its queue's length).",
            labels=["project", "state"],
        )
        subscribers = GaugeMetricFamily(
            "switchboard_subscribers",
            "Subscriptions to the project's events (/ws connections, event streams).",
            labels=["project"],
        )
        for project in hub.project_infos():
            runs.add_metric([project.name, "queued"], project.queued)
            runs.add_metric([project.name, "running"], 1 if project.running_run else 0)
            subscribers.add_metric([project.name], hub.events.listener_count(project.id))
        yield runs
        yield subscribers

    def _hub_state(self) -> Iterable[Metric]:
        hub = self._hub
        pending = GaugeMetricFamily(
            "switchboard_confirmations_pending",
            "Confirmations waiting for an answer, by kind.",
            labels=["kind"],
        )
        by_kind = Counter(c.kind for c in hub.pending_confirmations())
        for kind in get_args(ConfirmationKind):
            pending.add_metric([kind], by_kind[kind])
        yield pending
        processes = GaugeMetricFamily(
            "switchboard_cli_processes",
            "CLI processes this server started on its own machine that are up, by endpoint.",
            labels=["endpoint"],
        )
        for_projects, for_ws_claude = hub.processes.alive()
        processes.add_metric(["/ws"], for_projects)
        processes.add_metric(["/ws/claude"], for_ws_claude)
        yield processes
        agents = GaugeMetricFamily(
            "switchboard_agents",
            "Remote agents (one per agent token), by whether their link is up.",
            labels=["state"],
        )
        infos = hub.agent_infos()
        online = sum(1 for agent in infos if agent.online)
        agents.add_metric(["online"], online)
        agents.add_metric(["offline"], len(infos) - online)
        yield agents


def _endpoint(connection: object) -> str:
    for kind, endpoint in ENDPOINTS:
        if isinstance(connection, kind):
            return endpoint
    return "other"


def metrics_endpoint(
    hub: Hub, tracker: ConnectionTracker, limits: ConnectionLimits | None
) -> Callable[[Request], Awaitable[Response]]:
    """The route's handler; registers the scrape-time gauges in the hub's registry."""
    registry = hub.telemetry.registry
    hub.telemetry.add_collector(ServerGauges(hub, tracker, limits))

    async def respond(request: Request) -> Response:  # async: on the loop, with the hub
        return Response(
            generate_latest(registry),
            headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"},
        )

    return respond


class LoopLag:
    """A task that sleeps ``interval`` seconds, again and again, and reports how much
    later than asked it woke up: the event loop's lag (a blocked loop wakes it late).
    One timer and one observation per interval: nothing that would show up itself."""

    def __init__(self, observe: Callable[[float], None], interval: float = LAG_INTERVAL) -> None:
        self._observe = observe
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._probe(), name="loop-lag")

    async def stop(self) -> None:
        """Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self._interval
            await asyncio.sleep(self._interval)
            self._observe(max(0.0, loop.time() - asked))
