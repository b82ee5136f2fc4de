"""``switchboard prompt`` asking about its run's confirmations, with a pseudo-terminal
as stdin and a stand-in for the connection (end to end: tests/e2e/test_prompt_answers)."""

import asyncio
import io
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TextIO, cast

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.client_confirmations import (
    PERMISSION_PROMPT,
    PLAN_PROMPT,
    QUESTION_PROMPT,
    ConfirmationAnswerer,
    answer_commands,
    choice,
)

pytestmark = pytest.mark.timeout(30)


class Answers:
    """Records ``answer`` requests; ``refuse`` makes the next one fail as the server would."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
        self.refuse: RequestError | None = None

    async def answer(self, confirmation_id: str, response: str, **fields: Any) -> dict[str, Any]:
        await self.sent.put((confirmation_id, response, fields))
        if self.refuse is not None:
            raise self.refuse
        return {"type": "ack"}


class Screen(io.StringIO):
    """What the answerer printed, and a way to wait until it printed something."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)

    async def shows(self, text: str, times: int = 1) -> None:
        while self.getvalue().count(text) < times:
            self.changed.clear()
            await self.changed.wait()


@contextmanager
def pseudo_terminal() -> Iterator[tuple[int, TextIO]]:
    """(the side to type on, the side that is stdin)."""
    master, follower = os.openpty()
    stdin = open(follower, encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        yield master, stdin
    finally:
        stdin.close()
        os.close(follower)
        os.close(master)


@asynccontextmanager
async def answering(
    stdin: TextIO | None,
) -> AsyncIterator[tuple[ConfirmationAnswerer, Screen, Answers]]:
    screen, answers = Screen(), Answers()
    answerer = ConfirmationAnswerer("webapp", ["--data-dir=/d"], screen, stdin)
    task = asyncio.create_task(answerer.run(cast(SwitchboardClient, answers)))
    try:
        yield answerer, screen, answers
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def required(confirmation_id: str, kind: str = "tool_permission", **more: Any) -> dict[str, Any]:
    confirmation = {"id": confirmation_id, "kind": kind, "options": ["allow", "deny"], **more}
    return {"type": "confirmation_required", "confirmation": confirmation}


QUESTIONS: dict[str, list[dict[str, Any]]] = {
    "questions": [
        {"question": "Which color?", "options": [{"label": "Red"}, {"label": "Blue"}]},
        {
            "question": "Which sizes?",
            "multiSelect": True,
            "options": [{"label": "S"}, {"label": "M"}, {"label": "L"}],
        },
        {"question": "Anything else?", "options": [{"label": "No"}]},
    ]
}


async def test_a_permission_is_asked_until_answered_and_always_remembers() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            answerer.seen(required("c1"))
            await screen.shows(PERMISSION_PROMPT)
            os.write(keys, b"maybe\n")
            await screen.shows(PERMISSION_PROMPT, times=2)  # asked again
            os.write(keys, b"a\n")
            assert await answers.sent.get() == ("c1", "allow", {"answers": None, "remember": True})


async def test_a_plan_is_approved_with_yes_or_no_only() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            answerer.seen(required("p1", kind="plan"))
            await screen.shows(PLAN_PROMPT)
            os.write(keys, b"always\n")
            await screen.shows(PLAN_PROMPT, times=2)
            os.write(keys, b"n\n")
            assert await answers.sent.get() == ("p1", "deny", {"answers": None, "remember": None})


async def test_questions_take_option_numbers_or_free_text() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            answerer.seen(required("q1", kind="question", input=QUESTIONS))
            await screen.shows(QUESTION_PROMPT)
            assert "? Which color?\n  1. Red\n  2. Blue\n" in screen.getvalue()
            os.write(keys, b"2\n")
            await screen.shows("? Which sizes?")
            os.write(keys, b"1, 3\n")
            await screen.shows("? Anything else?")
            os.write(keys, b"Gift wrap, please\n")
            chosen = {
                "Which color?": "Blue",
                "Which sizes?": ["S", "L"],
                "Anything else?": "Gift wrap, please",
            }
            sent = await answers.sent.get()
            assert sent == ("q1", "answers", {"answers": chosen, "remember": None})


def test_a_choice_by_number_or_words() -> None:
    color, sizes = QUESTIONS["questions"][:2]
    assert choice(color, " 1 ") == "Red"
    assert choice(color, "3") == "3"  # no such option: the words themselves
    assert choice(color, "1,2") is None  # one choice only: ask again
    assert choice(color, "  ") is None
    assert choice(sizes, "2") == ["M"]


async def test_answered_elsewhere_it_stops_asking_and_asks_the_next() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            answerer.seen(required("c1"))
            answerer.seen(required("c2"))
            await screen.shows(PERMISSION_PROMPT)
            answerer.seen(
                {"type": "confirmation_answered", "confirmation_id": "c1", "response": "deny"}
            )
            await screen.shows("· confirmation c1 answered elsewhere (deny): no longer asking")
            await screen.shows(PERMISSION_PROMPT, times=2)  # now about c2
            answerer.seen(
                {"type": "confirmation_expired", "confirmation_id": "c2", "reason": "timeout"}
            )
            await screen.shows("· confirmation c2 expired (timeout): no longer asking")
            answerer.seen(required("c3"))
            await screen.shows(PERMISSION_PROMPT, times=3)
            os.write(keys, b"y\n")
            assert (await answers.sent.get())[:2] == ("c3", "allow")


async def test_what_was_typed_before_the_question_answers_nothing() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            os.write(keys, b"y\n")
            answerer.seen(required("c1"))
            await screen.shows(PERMISSION_PROMPT)
            os.write(keys, b"n\n")
            assert (await answers.sent.get())[:2] == ("c1", "deny")


async def test_an_answer_refused_by_the_server_is_reported() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, answers):
            answers.refuse = RequestError("already_answered", "it expired")
            answerer.seen(required("c1"))
            await screen.shows(PERMISSION_PROMPT)
            os.write(keys, b"y\n")
            await screen.shows("· confirmation c1 not answered: it expired")


async def test_when_input_ends_it_prints_how_to_answer() -> None:
    with pseudo_terminal() as (keys, stdin):
        async with answering(stdin) as (answerer, screen, _):
            answerer.seen(required("c1"))
            await screen.shows(PERMISSION_PROMPT)
            os.write(keys, b"\x04")  # Ctrl-D: end of input
            await screen.shows("switchboard answer webapp c1 deny --data-dir=/d")
            answerer.seen(required("c2"))
            assert "switchboard answer webapp c2 allow --data-dir=/d" in screen.getvalue()


async def test_without_a_terminal_it_prints_the_answer_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_PROGRAM", "./scripts/switchboard")
    async with answering(io.StringIO()) as (answerer, screen, _):
        answerer.seen(required("c1"))
    assert screen.getvalue().splitlines() == [
        "  answer: ./scripts/switchboard answer webapp c1 allow --data-dir=/d",
        "      or: ./scripts/switchboard answer webapp c1 deny --data-dir=/d",
    ]


def test_answer_commands_for_a_question_offer_its_options() -> None:
    question = required("q1", kind="question", input={"questions": QUESTIONS["questions"][:1]})
    confirmation = {**question["confirmation"], "options": ["Red", "Light blue"]}
    lines = answer_commands("my project", confirmation, [])
    assert [line.split(": ", 1)[1] for line in lines] == [
        "switchboard answer 'my project' q1 Red",
        "switchboard answer 'my project' q1 'Light blue'",
        "switchboard answer 'my project' q1 deny",
    ]
    several = required("q2", kind="question", input=QUESTIONS)["confirmation"]
    assert "several questions" in answer_commands("p", several, [])[0]
