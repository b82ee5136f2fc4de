"""The confirmation book on its own: first answer wins, countdowns, pause, endings."""

import asyncio
from typing import Any

import pytest

from switchboard.agents.base import AskKind, PermissionAsk, Question, RuleKey
from switchboard.hub.confirmation import ConfirmationError, Decision
from switchboard.hub.confirmations import ConfirmationBook
from switchboard.protocol.messages import ConfirmationEvent
from switchboard.protocol.skills import SkillQuestion


class Recorder:
    def __init__(self) -> None:
        self.events: list[ConfirmationEvent] = []
        self.decisions: list[Decision] = []
        self._recorded = asyncio.Condition()

    async def record(self, project: str, run: str | None, body: ConfirmationEvent) -> None:
        self.events.append(body)
        async with self._recorded:
            self._recorded.notify_all()

    async def wait_for(self, kind: str, count: int, timeout: float = 5.0) -> None:
        """Until ``count`` events of type ``kind`` were recorded."""
        async with asyncio.timeout(timeout), self._recorded:
            await self._recorded.wait_for(lambda: self.types().count(kind) >= count)

    async def deliver(self, decision: Decision) -> None:
        self.decisions.append(decision)

    def types(self) -> list[str]:
        return [event.type for event in self.events]


def request(tool: str = "Bash", request_id: str = "r1") -> PermissionAsk:
    kind: AskKind = "plan" if tool == "ExitPlanMode" else "tool_permission"
    keys = ((tool, None, '{"command":"ls"}'),)
    return PermissionAsk(request_id, kind, tool, {"command": "ls"}, [], keys)


def book(recorder: Recorder, timeout: float = 60.0) -> ConfirmationBook:
    timeouts = {"tool_permission": timeout, "question": timeout, "plan": timeout}
    return ConfirmationBook(recorder.record, timeouts)  # type: ignore[arg-type]


async def test_the_first_answer_wins_and_a_second_is_refused() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open("p", "run", request(), recorder.deliver)
    results = await asyncio.gather(
        confirmations.answer(opened.id, "allow"),
        confirmations.answer(opened.id, "deny"),
        return_exceptions=True,
    )
    assert isinstance(results[1], ConfirmationError) and results[1].code == "already_answered"
    assert recorder.decisions == [Decision(True, response="allow", confirmation_id=opened.id)]
    assert recorder.types() == ["confirmation_required", "confirmation_answered"]
    assert confirmations.pending() == []


async def test_bad_answers_are_refused_and_change_nothing() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open("p", None, request("ExitPlanMode"), recorder.deliver)
    assert opened.info().kind == "plan"
    with pytest.raises(ConfirmationError) as invalid:
        await confirmations.answer(opened.id, "perhaps")
    assert invalid.value.code == "invalid_option"
    with pytest.raises(ConfirmationError) as unknown:
        await confirmations.answer("nope", "allow")
    assert unknown.value.code == "unknown_confirmation"
    assert [c.id for c in confirmations.pending("p")] == [opened.id]
    assert confirmations.pending("other") == []


async def test_a_countdown_expires_into_a_deny_and_pausing_holds_it() -> None:
    recorder = Recorder()
    confirmations = book(recorder, timeout=0.5)
    held = await confirmations.open("p", "run", request(request_id="a"), recorder.deliver)
    await confirmations.set_paused(held.id, True)
    loose = await confirmations.open("p", "run", request(request_id="b"), recorder.deliver)
    await recorder.wait_for("confirmation_expired", 1)  # the loose one, after 0.5 s
    assert [c.id for c in confirmations.pending()] == [held.id]  # only the loose one went
    assert recorder.decisions[0].allow is False and "No answer" in recorder.decisions[0].message
    resumed = await confirmations.set_paused(held.id, False)
    assert 0 < resumed.info().remaining_seconds <= 0.5
    await recorder.wait_for("confirmation_expired", 2)
    assert confirmations.pending() == []
    expired = [e for e in recorder.events if e.type == "confirmation_expired"]
    assert [e.confirmation_id for e in expired] == [loose.id, held.id]


async def test_a_withdrawn_request_expires_without_an_answer_to_the_cli() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open("p", "run", request(request_id="w"), recorder.deliver)
    await confirmations.expire_where("withdrawn", request_id="w")
    assert recorder.decisions == []  # the CLI withdrew it: it must not be answered
    with pytest.raises(ConfirmationError, match="expired"):
        confirmations.get(opened.id)


async def test_several_questions_need_answers_for_each_and_lists_are_joined() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    questions = [
        {"question": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]},
        {"question": "Which sizes?", "multiSelect": True, "options": [{"label": "S"}]},
    ]
    asked = PermissionAsk(
        "q",
        "question",
        "AskUserQuestion",
        {"questions": questions},
        [],
        (),
        (Question("Which color?", ("Red", "Blue")), Question("Which sizes?", ("S",))),
    )
    opened = await confirmations.open("p", None, asked, recorder.deliver)
    assert opened.info().options == ["Red", "Blue"]
    with pytest.raises(ConfirmationError, match="answer each"):
        await confirmations.answer(opened.id, "Red")
    with pytest.raises(ConfirmationError, match="exactly these questions"):
        await confirmations.answer(opened.id, "x", answers={"Which color?": "Red"})
    await confirmations.answer(
        opened.id, "x", answers={"Which color?": "Red", "Which sizes?": ["S", "XL"]}, remember=True
    )
    [decision] = recorder.decisions
    assert decision.allow
    assert decision.answers == {"Which color?": "Red", "Which sizes?": "S, XL"}


class FailingRules:
    def match(self, project_id: str, keys: tuple[RuleKey, ...]) -> None:
        return None

    async def remember(self, project_id: str, keys: tuple[RuleKey, ...]) -> list[Any]:
        raise RuntimeError("disk full")


async def test_an_answer_reaches_the_cli_even_if_remembering_it_fails() -> None:
    recorder = Recorder()
    timeouts = {"tool_permission": 60.0, "question": 60.0, "plan": 60.0}
    confirmations = ConfirmationBook(recorder.record, timeouts, FailingRules())  # type: ignore[arg-type]
    opened = await confirmations.open("p", "run", request(), recorder.deliver)
    await confirmations.answer(opened.id, "allow", remember=True)
    assert recorder.decisions == [Decision(True, response="allow", confirmation_id=opened.id)]
    assert recorder.types() == ["confirmation_required", "confirmation_answered"]


async def test_time_waiting_for_a_person_is_counted_per_run() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open("p", "run", request(), recorder.deliver)
    assert confirmations.has_pending("run") and not confirmations.has_pending("other")
    await asyncio.sleep(0.2)
    await confirmations.answer(opened.id, "deny")
    waited = confirmations.person_seconds("run")
    await asyncio.sleep(0.1)
    assert 0.15 < waited == confirmations.person_seconds("run")  # the clock stopped


def question() -> SkillQuestion:
    return SkillQuestion(skill_id="s1", step_index=2, prompt="Retry the deploy?")


async def test_a_skill_is_answered_with_one_of_its_options_and_its_remember_flag() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open_skill(
        "p", question(), ["retry", "skip"], None, recorder.deliver
    )
    assert opened.kind == "skill" and opened.options == ["retry", "skip", "let_claude"]
    assert opened.timeout_seconds == 60.0  # the question timeout when none is given
    with pytest.raises(ConfirmationError) as refused:
        await confirmations.answer(opened.id, "allow")
    assert refused.value.code == "invalid_option"
    await confirmations.answer(opened.id, "skip", remember=True)
    assert recorder.decisions == [
        Decision(True, response="skip", remember=True, confirmation_id=opened.id)
    ]
    answered = recorder.events[-1]
    assert answered.type == "confirmation_answered"
    assert (answered.response, answered.remember) == ("skip", True)


async def test_an_unanswered_skill_question_falls_back_to_let_claude() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open_skill("p", question(), ["retry"], 0.05, recorder.deliver)
    await recorder.wait_for("confirmation_expired", 1)
    assert [(d.allow, d.response) for d in recorder.decisions] == [(False, "let_claude")]
    expired = recorder.events[-1]
    assert expired.type == "confirmation_expired"
    assert (expired.reason, expired.fallback) == ("timeout", "let_claude")
    with pytest.raises(ConfirmationError) as late:
        await confirmations.answer(opened.id, "retry")
    assert late.value.code == "already_answered"


async def test_a_withdrawn_skill_question_tells_nobody_but_the_log() -> None:
    recorder = Recorder()
    confirmations = book(recorder)
    opened = await confirmations.open_skill("p", question(), ["retry"], None, recorder.deliver)
    await confirmations.withdraw(opened.id)
    await confirmations.withdraw(opened.id)  # twice is harmless
    assert recorder.decisions == []
    assert recorder.types() == ["confirmation_required", "confirmation_expired"]
    assert confirmations.pending() == []
