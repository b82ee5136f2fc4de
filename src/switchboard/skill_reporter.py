"""The skill API: report a skill's progress and ask a person, for one project.

:class:`SkillReporter` has the API's calls. Where they go is a :class:`SkillSink`: the
hub of a server running in this process (:mod:`switchboard.embed`), or a server in
another process reached over WebSocket with a ``produce`` token
(:mod:`switchboard.producer`). Either way the events are stored in the project's log
before a call returns, and every client subscribed to the project sees them.
"""

from collections.abc import Sequence
from typing import Any, Protocol, TypedDict

from switchboard.protocol.messages import ConfirmationRequest, SkillEventPublish
from switchboard.protocol.skills import (
    AnySkillEvent,
    AutoHealCompleted,
    AutoHealTriggered,
    IntentClassified,
    MemoryQueryCompleted,
    MemoryQueryStarted,
    SkillCompleted,
    SkillFailed,
    SkillStarted,
    StepCompleted,
    StepFailed,
    StepStarted,
)


class ConfirmationAnswer(TypedDict):
    """What :meth:`SkillReporter.request_confirmation` returns."""

    response: str
    """The option a person chose, or ``let_claude`` (chosen, or the fallback on expiry)."""
    remember: bool
    """Whether the person asked for this answer to be remembered (the skill decides what
    that means; Switchboard stores no rule for it)."""


class SkillSink(Protocol):
    """Where a reporter's messages go."""

    async def publish(self, message: SkillEventPublish) -> None: ...

    async def confirm(self, message: ConfirmationRequest) -> ConfirmationAnswer: ...


class SkillReporter:
    """The skill API, bound to one project (its id, name or path)."""

    def __init__(self, sink: SkillSink, project: str) -> None:
        self.sink = sink
        self.project = project

    async def _publish(self, event: AnySkillEvent) -> None:
        message = SkillEventPublish(type="skill.event", project=self.project, event=event)
        await self.sink.publish(message)

    async def skill_started(
        self,
        skill_id: str,
        name: str,
        steps: int | Sequence[str],
        inputs: dict[str, Any] | None = None,
        source: str | None = None,
    ) -> None:
        """``steps``: how many, or their names."""
        names = None if isinstance(steps, int) else list(steps)
        total = steps if isinstance(steps, int) else len(names or [])
        await self._publish(
            SkillStarted(
                skill_id=skill_id,
                name=name,
                total_steps=total,
                step_names=names,
                inputs=inputs,
                source=source,
            )
        )

    async def skill_completed(self, skill_id: str, duration_ms: float | None = None) -> None:
        await self._publish(SkillCompleted(skill_id=skill_id, duration_ms=duration_ms))

    async def skill_failed(
        self, skill_id: str, error: str, duration_ms: float | None = None
    ) -> None:
        await self._publish(SkillFailed(skill_id=skill_id, error=error, duration_ms=duration_ms))

    async def step_started(
        self, skill_id: str, step_index: int, name: str, description: str | None = None
    ) -> None:
        await self._publish(
            StepStarted(
                skill_id=skill_id, step_index=step_index, name=name, description=description
            )
        )

    async def step_completed(
        self,
        skill_id: str,
        step_index: int,
        name: str | None = None,
        duration_ms: float | None = None,
    ) -> None:
        await self._publish(
            StepCompleted(
                skill_id=skill_id, step_index=step_index, name=name, duration_ms=duration_ms
            )
        )

    async def step_failed(
        self, skill_id: str, step_index: int, name: str | None, error: str
    ) -> None:
        await self._publish(
            StepFailed(skill_id=skill_id, step_index=step_index, name=name, error=error)
        )

    async def auto_heal_triggered(
        self, skill_id: str, step_index: int, heal_type: str, action: str
    ) -> None:
        await self._publish(
            AutoHealTriggered(
                skill_id=skill_id, step_index=step_index, heal_type=heal_type, action=action
            )
        )

    async def auto_heal_completed(
        self, skill_id: str, step_index: int, action: str, success: bool
    ) -> None:
        await self._publish(
            AutoHealCompleted(
                skill_id=skill_id, step_index=step_index, action=action, success=success
            )
        )

    async def memory_query_started(
        self, query_id: str, query: str, sources: Sequence[str] = ()
    ) -> None:
        await self._publish(
            MemoryQueryStarted(query_id=query_id, query=query, sources=list(sources))
        )

    async def memory_query_completed(
        self,
        query_id: str,
        intent: str | None = None,
        sources: Sequence[str] = (),
        result_count: int = 0,
        latency_ms: float | None = None,
    ) -> None:
        await self._publish(
            MemoryQueryCompleted(
                query_id=query_id,
                intent=intent,
                sources=list(sources),
                result_count=result_count,
                latency_ms=latency_ms,
            )
        )

    async def intent_classified(
        self, intent: str, confidence: float | None = None, query_id: str | None = None
    ) -> None:
        await self._publish(
            IntentClassified(intent=intent, confidence=confidence, query_id=query_id)
        )

    async def request_confirmation(  # noqa: PLR0917 (the skill API's signature)
        self,
        skill_id: str,
        step_index: int,
        prompt: str,
        options: Sequence[str],
        claude_suggestion: str | None = None,
        timeout_seconds: float | None = None,
    ) -> ConfirmationAnswer:
        """Ask every client of the project; returns the first answer, or
        ``{"response": "let_claude", "remember": False}`` when none came in time
        (``timeout_seconds``; default: the server's ``--question-timeout``).
        Cancelling the call withdraws the question."""
        message = ConfirmationRequest(
            type="confirmation.request",
            project=self.project,
            skill_id=skill_id,
            step_index=step_index,
            prompt=prompt,
            options=list(options),
            claude_suggestion=claude_suggestion,
            timeout_seconds=timeout_seconds,
        )
        return await self.sink.confirm(message)
