"""Publish skill events and ask for confirmations from another process, over ``/ws``.

    async with await RemoteProducer.connect("http://127.0.0.1:9876", token) as producer:
        skills = producer.skills("repo")
        await skills.skill_started("deploy-1", "deploy", steps=2)
        answer = await skills.request_confirmation("deploy-1", 0, "Ship it?", ["ship", "wait"])

``token`` is usually a scoped one (``switchboard token create NAME``): it may publish and
ask, nothing else. Cancelling a ``request_confirmation`` withdraws the question. If the
connection drops (the server shutting down included), the server withdraws the questions
still waiting, the calls raise :class:`~switchboard.client.ConnectionLost`, and the
skills that did not end are reported failed.
"""

import asyncio
import contextlib
from typing import Any

from switchboard.client import SwitchboardClient
from switchboard.exceptions import SwitchboardError
from switchboard.protocol.messages import ConfirmationRequest, SkillEventPublish
from switchboard.skill_reporter import ConfirmationAnswer, SkillReporter


class RemoteSink:
    """A :class:`~switchboard.skill_reporter.SkillSink` that sends to a server over WebSocket."""

    def __init__(self, client: SwitchboardClient) -> None:
        self.client = client

    async def publish(self, message: SkillEventPublish) -> None:
        event = message.event.model_dump(mode="json", exclude_none=True)
        await self.client.request("skill.event", project=message.project, event=event)

    async def confirm(self, message: ConfirmationRequest) -> ConfirmationAnswer:
        fields = message.model_dump(mode="json", exclude={"type", "id"}, exclude_none=True)
        # The request runs on even if the caller is cancelled before the ack: the
        # question exists from then on, and its id is needed to withdraw it.
        asking = asyncio.ensure_future(self.client.request("confirmation.request", **fields))
        try:
            ack = await asyncio.shield(asking)
            result = await self.client.confirmation_result(ack["confirmation"]["id"])
        except asyncio.CancelledError:  # nobody wants the answer any more: say so
            await asyncio.shield(self._withdraw(asking))
            raise
        return {"response": str(result["response"]), "remember": bool(result["remember"])}

    async def _withdraw(self, asking: "asyncio.Future[dict[str, Any]]") -> None:
        with contextlib.suppress(SwitchboardError):
            ack = await asking
            confirmation_id = ack["confirmation"]["id"]
            await self.client.request("confirmation.withdraw", confirmation_id=confirmation_id)


class RemoteProducer(SwitchboardClient):
    """A client connection that also gives the skill API for a project (:meth:`skills`)."""

    def skills(self, project: str) -> SkillReporter:
        return SkillReporter(RemoteSink(self), project)
