"""The projects one ``/ws`` connection follows: ``subscribe`` and ``unsubscribe``, and
who may answer a project's confirmations (only a client that follows it)."""

import contextlib
from collections.abc import Callable

from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.messages import Ack, Error, Subscribe, Unsubscribe
from switchboard.server.outbox import Outbox
from switchboard.server.subscription import Subscription


class SubscriptionSet:
    __slots__ = ("_by_project", "_hub", "_outbox")

    def __init__(self, hub: Hub, outbox: Outbox) -> None:
        self._hub = hub
        self._outbox = outbox
        self._by_project: dict[str, Subscription] = {}

    def __contains__(self, project_id: str) -> bool:
        return project_id in self._by_project

    async def subscribe(self, request: Subscribe, reply: Callable[[Ack | Error], object]) -> None:
        """Follow the project from ``since``: ``reply`` the ack (with what is pending
        now), then history and live events follow it; or reply ``history_trimmed`` if
        retention took events after ``since``. A second subscribe to a project replaces
        the first."""
        hub = self._hub
        project = hub.project(request.project)
        await hub.cluster.sync(project.id)  # on a node that does not own it: the log now
        head = hub.head(project.id)
        if request.since > head:
            raise HubError(
                "since_out_of_range",
                f"since={request.since} is beyond the last event of {project.name} ({head})",
            )
        if (trimmed := self._trimmed(request, project.name, project.id)) is not None:
            reply(trimmed)
            return
        previous = self._by_project.pop(project.id, None)
        if previous is not None:
            await previous.stop()
            project = hub.project(request.project)  # still there after the wait?
            head = hub.head(project.id)
            if (trimmed := self._trimmed(request, project.name, project.id)) is not None:
                reply(trimmed)
                return
        ack = Ack(
            id=request.id,
            head=head,
            pending_confirmations=hub.pending_confirmations(project.id),
            running_skills=hub.running_skills(project.id),
            tasks=hub.tasks(project.id),
            diagnostics=hub.diagnostics(project.id),
        )
        reply(ack)  # before the first event of the replay
        subscription = Subscription(
            project.id, request.since, hub.events, self._outbox, batch=request.batch
        )
        self._by_project[project.id] = subscription
        subscription.start()  # no wait since the check: retention now leaves it its part

    async def unsubscribe(self, request: Unsubscribe) -> Ack:
        project = self._hub.project(request.project)
        subscription = self._by_project.pop(project.id, None)
        if subscription is None:
            raise HubError("not_subscribed", f"not subscribed to {request.project!r}")
        await subscription.stop()
        return Ack(id=request.id)

    def following(self) -> list[str]:
        return list(self._by_project)

    def check_follows(self, confirmation_id: str) -> None:
        """Only a client that follows a project may answer for it."""
        project_id = self._hub.confirmation_project(confirmation_id)
        if project_id not in self._by_project:
            raise HubError(
                "not_subscribed", f"subscribe to {project_id} to answer its confirmations"
            )

    def drop(self, project_id: str) -> None:
        """The project is gone: stop following it, without waiting."""
        subscription = self._by_project.pop(project_id, None)
        if subscription is not None:
            subscription.cancel()

    async def stop_all(self) -> None:
        for subscription in list(self._by_project.values()):
            with contextlib.suppress(Exception):
                await subscription.stop()

    def _trimmed(self, request: Subscribe, name: str, project_id: str) -> Error | None:
        """``history_trimmed`` if events after ``since`` are gone (retention)."""
        first = self._hub.first_seq(project_id)
        if request.since >= first - 1:
            return None
        message = (
            f"events {request.since + 1}-{first - 1} of {name} were deleted by its retention "
            f"policy; the oldest kept is {first}: subscribe with since={first - 1} for the rest"
        )
        return Error(code="history_trimmed", message=message, id=request.id, first_seq=first)
