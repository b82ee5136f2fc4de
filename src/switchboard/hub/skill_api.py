"""The skill API in the hub: producers (an embedding program, or a connection holding
a ``produce`` token) log skill events in a project and ask a person questions."""

import time

from switchboard.hub.confirmation import Confirmation, Deliver
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.hub.registry import ProjectRegistry
from switchboard.hub.running_skills import SkillBoard
from switchboard.protocol.messages import ConfirmationRequest
from switchboard.protocol.skills import AnySkillEvent, SkillQuestion
from switchboard.store.records import NewEvent


class SkillApi:
    def __init__(self, registry: ProjectRegistry, confirmations: ConfirmationBook) -> None:
        self._registry = registry
        self._confirmations = confirmations
        self.board = SkillBoard()
        """The skills under way, as the events passing through tell."""

    async def publish(
        self,
        key: str,
        event: AnySkillEvent,
        producer: str,
        owner: object = None,
        *,
        during_shutdown: bool = False,
    ) -> AnySkillEvent:
        """Store a skill event in the project's log (kind ``skill``), stamped with the
        time and who sent it, and keep the board up to date. ``owner`` (a connection)
        is who answers for the skill; ``during_shutdown`` lets the server record what a
        closing connection leaves behind."""
        if not during_shutdown:
            self._registry.refuse_when_closing()
        async with self._registry.changing(key) as (record, _state):
            stamped = event.model_copy(update={"at": time.time(), "producer": producer})
            body = stamped.model_dump_json(exclude_none=True)
            await self._registry.append(record.id, NewEvent("skill", body))
            self.board.apply(record.id, stamped, owner)
        return stamped

    async def ask(
        self, request: ConfirmationRequest, producer: str, deliver: Deliver
    ) -> Confirmation:
        """Open a skill's confirmation in the project; ``deliver`` gets the outcome."""
        self._registry.refuse_when_closing()
        question = SkillQuestion(
            skill_id=request.skill_id,
            step_index=request.step_index,
            prompt=request.prompt,
            claude_suggestion=request.claude_suggestion,
            producer=producer,
        )
        async with self._registry.changing(request.project) as (record, _state):
            return await self._confirmations.open_skill(
                record.id, question, request.options, request.timeout_seconds, deliver
            )
