"""The skill events: what a skill engine reports while it works.

A producer (a program embedding Switchboard, or another process holding a token with
the ``produce`` scope) publishes these; the hub stores each as an ``event`` of kind
``skill`` in the project's log, so subscribers see them live and in replays. The
server sets ``at`` and ``producer``; values a producer sends there are replaced.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SkillId = Annotated[str, Field(min_length=1, max_length=200)]
Label = Annotated[str, Field(max_length=1000)]
LongText = Annotated[str, Field(max_length=100_000)]
StepIndex = Annotated[int, Field(ge=0)]
Millis = Annotated[float, Field(ge=0)]


class _SkillEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: float | None = Field(default=None, description="Set by the server: when it was stored.")
    producer: str | None = Field(
        default=None,
        description='Set by the server: "embedded", or the name of the token that sent it.',
    )


class SkillStarted(_SkillEvent):
    type: Literal["skill_started"] = "skill_started"
    skill_id: SkillId
    name: Label
    total_steps: Annotated[int, Field(ge=0)]
    step_names: list[Label] | None = None
    inputs: dict[str, Any] | None = None
    source: Label | None = Field(default=None, description="What started it (free text).")


class SkillCompleted(_SkillEvent):
    type: Literal["skill_completed"] = "skill_completed"
    skill_id: SkillId
    duration_ms: Millis | None = None


class SkillFailed(_SkillEvent):
    type: Literal["skill_failed"] = "skill_failed"
    skill_id: SkillId
    error: LongText
    duration_ms: Millis | None = None


class StepStarted(_SkillEvent):
    type: Literal["step_started"] = "step_started"
    skill_id: SkillId
    step_index: StepIndex
    name: Label
    description: LongText | None = None


class StepCompleted(_SkillEvent):
    type: Literal["step_completed"] = "step_completed"
    skill_id: SkillId
    step_index: StepIndex
    name: Label | None = None
    duration_ms: Millis | None = None


class StepFailed(_SkillEvent):
    type: Literal["step_failed"] = "step_failed"
    skill_id: SkillId
    step_index: StepIndex
    name: Label | None = None
    error: LongText


class AutoHealTriggered(_SkillEvent):
    type: Literal["auto_heal_triggered"] = "auto_heal_triggered"
    skill_id: SkillId
    step_index: StepIndex
    heal_type: Label = Field(description="What kind of failure is being healed.")
    action: LongText = Field(description="What the healer does about it.")


class AutoHealCompleted(_SkillEvent):
    type: Literal["auto_heal_completed"] = "auto_heal_completed"
    skill_id: SkillId
    step_index: StepIndex
    action: LongText
    success: bool


class MemoryQueryStarted(_SkillEvent):
    type: Literal["memory_query_started"] = "memory_query_started"
    query_id: SkillId
    query: LongText
    sources: list[Label] = []


class MemoryQueryCompleted(_SkillEvent):
    type: Literal["memory_query_completed"] = "memory_query_completed"
    query_id: SkillId
    intent: Label | None = None
    sources: list[Label] = []
    result_count: Annotated[int, Field(ge=0)] = 0
    latency_ms: Millis | None = None


class IntentClassified(_SkillEvent):
    type: Literal["intent_classified"] = "intent_classified"
    query_id: SkillId | None = None
    intent: Label
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


AnySkillEvent = (
    SkillStarted
    | SkillCompleted
    | SkillFailed
    | StepStarted
    | StepCompleted
    | StepFailed
    | AutoHealTriggered
    | AutoHealCompleted
    | MemoryQueryStarted
    | MemoryQueryCompleted
    | IntentClassified
)
SkillEvent = Annotated[AnySkillEvent, Field(discriminator="type")]
"""The ``data`` of an ``event`` of kind ``skill``."""


class SkillQuestion(BaseModel):
    """What a skill asks a person (the skill API's ``request_confirmation``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    skill_id: SkillId
    step_index: StepIndex
    prompt: Annotated[str, Field(min_length=1, max_length=100_000)]
    claude_suggestion: Label | None = Field(
        default=None, description="The option Claude would pick, shown as a hint."
    )
    producer: str | None = Field(default=None, description="Set by the server: who asks.")


class SkillState(BaseModel):
    """A skill that started and has not ended (an entry of ``running_skills``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    skill_id: str
    project: str
    name: str
    total_steps: int
    current_step: int | None = Field(description="The index of the last step started.")
    started_at: float
    source: str | None
    producer: str | None


LET_CLAUDE = "let_claude"
"""A skill confirmation's fallback on expiry, and an answer every client may give."""
