"""Running skills: from skill_started to its end, and who answers for each."""

from switchboard.hub.running_skills import SkillBoard
from switchboard.protocol.skills import SkillCompleted, SkillStarted, StepStarted


def started(skill_id: str) -> SkillStarted:
    return SkillStarted(skill_id=skill_id, name="n", total_steps=2, at=1.0, producer="bot")


def test_a_skill_runs_from_its_start_to_its_end_and_tracks_its_step() -> None:
    board = SkillBoard()
    board.apply("p", started("s"))
    board.apply("p", StepStarted(skill_id="s", step_index=1, name="link"))
    board.apply("p", StepStarted(skill_id="unknown", step_index=0, name="x"))  # ignored
    [state] = board.running("p")
    assert (state.skill_id, state.current_step, state.started_at) == ("s", 1, 1.0)
    assert board.running("other") == []
    board.apply("p", SkillCompleted(skill_id="s"))
    assert board.running() == []


def test_a_restarted_skill_belongs_to_whoever_restarted_it() -> None:
    board = SkillBoard()
    first, second = object(), object()
    board.apply("p", started("s"), first)
    board.apply("p", started("only-first"), first)
    board.apply("p", started("s"), second)  # the same id, started again by another
    assert [s.skill_id for s in board.owned_by(first)] == ["only-first"]
    assert [s.skill_id for s in board.owned_by(second)] == ["s"]
    board.forget_project("p")
    assert board.owned_by(second) == [] and board.running() == []
