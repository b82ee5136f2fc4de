"""Which skills are under way (``running_skills``), kept from the skill events.

Only what passed through this server since it started is known: a skill is running from
its ``skill_started`` until its ``skill_completed`` or ``skill_failed``. Events for a
skill that is not known (started before a restart, or never announced) are stored like
any other, and change nothing here.
"""

from switchboard.protocol.skills import (
    AnySkillEvent,
    SkillCompleted,
    SkillFailed,
    SkillStarted,
    SkillState,
    StepStarted,
)


class SkillBoard:
    def __init__(self) -> None:
        self._running: dict[tuple[str, str], SkillState] = {}
        self._owners: dict[tuple[str, str], object] = {}
        """Who started each running skill (a producer's connection), if anyone."""

    def apply(self, project_id: str, event: AnySkillEvent, owner: object = None) -> None:
        match event:
            case SkillStarted():
                self._owners[(project_id, event.skill_id)] = owner
                self._running[(project_id, event.skill_id)] = SkillState(
                    skill_id=event.skill_id,
                    project=project_id,
                    name=event.name,
                    total_steps=event.total_steps,
                    current_step=None,
                    started_at=event.at or 0.0,
                    source=event.source,
                    producer=event.producer,
                )
            case StepStarted():
                key = (project_id, event.skill_id)
                if key in self._running:
                    update = {"current_step": event.step_index}
                    self._running[key] = self._running[key].model_copy(update=update)
            case SkillCompleted() | SkillFailed():
                self._running.pop((project_id, event.skill_id), None)
                self._owners.pop((project_id, event.skill_id), None)

    def running(self, project_id: str | None = None) -> list[SkillState]:
        return [
            state
            for (project, _), state in self._running.items()
            if project_id is None or project == project_id
        ]

    def owned_by(self, owner: object) -> list[SkillState]:
        """The running skills ``owner`` started (and nobody restarted since)."""
        return [state for key, state in self._running.items() if self._owners.get(key) is owner]

    def forget_project(self, project_id: str) -> None:
        for key in [key for key in self._running if key[0] == project_id]:
            del self._running[key]
            self._owners.pop(key, None)
