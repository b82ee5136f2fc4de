"""One ``/ws`` connection as a producer (the skill API over the wire): the skill events
it publishes, the questions it asks and waits for, and what it leaves behind.

When the connection closes, the confirmations it still waits for are withdrawn and the
skills it started and did not end are reported failed.
"""

import asyncio
import contextlib
from collections.abc import Callable

from switchboard.exceptions import RequestRefused, StoreError
from switchboard.hub.confirmation import Decision
from switchboard.hub.hub import Hub, HubError
from switchboard.protocol.messages import (
    Ack,
    ConfirmationRequest,
    ConfirmationResult,
    ConfirmationWithdraw,
    SkillEventPublish,
)
from switchboard.protocol.skills import SkillFailed
from switchboard.server.security import Grant

MAX_PENDING_PER_CONNECTION = 64
"""Questions one connection may have waiting at once (each may start --on-confirmation)."""

Reply = Callable[[Ack | ConfirmationResult], bool]
"""Queues a message for the connection; False if it is closing."""


class ProducerLink:
    __slots__ = ("_asked", "_ending", "_grant", "_hub", "_owner")

    def __init__(
        self, hub: Hub, grant: Grant, owner: object, ending: "asyncio.Future[None]"
    ) -> None:
        self._hub = hub
        self._grant = grant
        self._owner = owner
        """Who answers for the skills this link starts (its connection)."""
        self._ending = ending
        """Done once the connection ends: what it is sent then goes nowhere."""
        self._asked: set[str] = set()
        """The confirmations this connection waits for."""

    def _project_id(self, key: str) -> str:
        project = self._hub.project(key)
        if not self._grant.covers(project.id):  # as if it did not exist: nothing leaks
            raise HubError("unknown_project", f"no project {key!r}")
        return project.id

    async def publish(self, request: SkillEventPublish) -> Ack:
        project_id = self._project_id(request.project)
        await self._hub.publish_skill_event(
            project_id, request.event, self._grant.name, self._owner
        )
        return Ack(id=request.id)

    async def withdraw(self, request: ConfirmationWithdraw) -> Ack:
        if request.confirmation_id not in self._asked:
            raise HubError(
                "unknown_confirmation",
                f"this connection waits for no confirmation {request.confirmation_id!r}",
            )
        await self._hub.withdraw_confirmation(request.confirmation_id)
        self._asked.discard(request.confirmation_id)
        return Ack(id=request.id)

    async def ask(self, request: ConfirmationRequest, reply: Reply) -> None:
        """Open the confirmation, ack it, and send its ``confirmation_result`` when it
        ends (always after the ack, even when an answer beats the ack)."""
        project_id = self._project_id(request.project)
        if len(self._asked) >= MAX_PENDING_PER_CONNECTION:
            raise HubError(
                "too_many_pending",
                f"this connection already waits for {len(self._asked)} answers "
                f"(the limit is {MAX_PENDING_PER_CONNECTION})",
            )
        held: list[ConfirmationResult] = []
        acked = False

        async def deliver(decision: Decision) -> bool:
            self._asked.discard(decision.confirmation_id)
            result = ConfirmationResult(
                id=request.id,
                confirmation_id=decision.confirmation_id,
                response=decision.response,
                remember=decision.remember,
                expired=not decision.allow,
            )
            if self._ending.done():
                return False
            if acked:
                return reply(result)
            held.append(result)
            return True

        resolved = request.model_copy(update={"project": project_id})
        confirmation = await self._hub.ask_for_skill(resolved, self._grant.name, deliver)
        if not held:
            self._asked.add(confirmation.id)
        reply(Ack(id=request.id, confirmation=confirmation.info()))
        acked = True
        for result in held:
            reply(result)

    async def leave(self) -> None:
        """Nobody waits for this connection's confirmations any more, and its unended
        skills will not end: say so."""
        for confirmation_id in list(self._asked):
            with contextlib.suppress(Exception):
                await self._hub.withdraw_confirmation(confirmation_id)
        for skill in self._hub.skills_owned_by(self._owner):
            failed = SkillFailed(skill_id=skill.skill_id, error="the producer disconnected")
            with contextlib.suppress(RequestRefused, StoreError):
                await self._hub.publish_skill_event(
                    skill.project, failed, self._grant.name, during_shutdown=True
                )
