"""``switchboard prompt`` and the confirmations of its run.

At a terminal, it asks (``Allow? [y]es / [n]o / [a]lways``, a plan's approval, a
question's option by number or in free text), sends the answer and the run goes on
printing. Elsewhere (or once stdin is closed) it prints the ``switchboard answer``
commands instead. The first answer wins as always: when a confirmation is answered by
another client or expires, it stops asking and says so.
"""

import asyncio
import contextlib
import os
import select
import termios
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from switchboard.client import ConnectionLost, RequestError, SwitchboardClient
from switchboard.program import command_line

PERMISSION_PROMPT = "Allow? [y]es / [n]o / [a]lways: "
PLAN_PROMPT = "Approve the plan? [y]es / [n]o: "
QUESTION_PROMPT = "Answer (a number, or your own words): "
PERMISSION_WORDS = {
    "y": ("allow", False),
    "yes": ("allow", False),
    "n": ("deny", False),
    "no": ("deny", False),
    "a": ("allow", True),
    "always": ("allow", True),
}
"""What may be typed for a tool permission or a plan: (response, remember)."""
ENDED = {"confirmation_answered": "answered elsewhere", "confirmation_expired": "expired"}


def answer_commands(project: str, confirmation: dict[str, Any], options: list[str]) -> list[str]:
    """The ``switchboard answer`` command lines for ``confirmation`` (``options``: the
    connection options this command was given, repeated so that they reach the same
    server)."""
    questions = _questions(confirmation)
    if len(questions) > 1:
        return ["  several questions: answer them at a terminal or in the web UI"]
    responses = [*confirmation.get("options", ["allow"]), "deny"]
    lines = [
        command_line("answer", project, str(confirmation.get("id")), response, *options)
        for response in dict.fromkeys(responses)
    ]
    return ["  answer: " + lines[0], *("      or: " + line for line in lines[1:])]


def _questions(confirmation: dict[str, Any]) -> list[dict[str, Any]]:
    if confirmation.get("kind") != "question":
        return []
    found = (confirmation.get("input") or {}).get("questions")
    return [q for q in found or [] if isinstance(q, dict) and isinstance(q.get("question"), str)]


def _labels(question: dict[str, Any]) -> list[str]:
    return [str(o.get("label")) for o in question.get("options") or [] if isinstance(o, dict)]


def choice(question: dict[str, Any], typed: str) -> str | list[str] | None:
    """An option's label by its number (several, comma-separated, for a multiple choice
    question), or the words typed; None when nothing was typed."""
    text = typed.strip()
    labels = _labels(question)
    numbers = [part.strip() for part in text.split(",")]
    if text and all(n.isdigit() and 1 <= int(n) <= len(labels) for n in numbers):
        chosen = [labels[int(n) - 1] for n in numbers]
        return chosen if question.get("multiSelect") else chosen[0] if len(chosen) == 1 else None
    return text or None


class TerminalLines:
    """Lines typed at the terminal on stdin, handed to ``on_line`` from the event loop
    (``None``: end of input). The terminal stays in blocking mode: stdout may share it."""

    def __init__(self, fd: int, on_line: Callable[[str | None], None]) -> None:
        self.fd = fd
        self._on_line = on_line
        self._buffer = b""

    @classmethod
    def of(
        cls, stream: TextIO | None, on_line: Callable[[str | None], None]
    ) -> "TerminalLines | None":
        """None unless ``stream`` is a terminal this process may read: not one whose
        foreground is another job (reading would stop us)."""
        try:
            fd = stream.fileno() if stream is not None else -1
        except (OSError, ValueError):  # not a file (or closed)
            return None
        if fd < 0 or not os.isatty(fd):
            return None
        with contextlib.suppress(OSError):  # not our controlling terminal: no job control
            if os.tcgetpgrp(fd) != os.getpgrp():
                return None
        return cls(fd, on_line)

    def start(self) -> None:
        asyncio.get_running_loop().add_reader(self.fd, self._readable)

    def stop(self) -> None:
        asyncio.get_running_loop().remove_reader(self.fd)

    def discard_typeahead(self) -> None:
        """Forget what was typed before a question was shown: it answers nothing."""
        self._buffer = b""
        with contextlib.suppress(OSError):
            termios.tcflush(self.fd, termios.TCIFLUSH)

    def _readable(self) -> None:
        if not select.select([self.fd], [], [], 0)[0]:
            return  # no longer: the typeahead was discarded since the loop looked
        try:
            data = os.read(self.fd, 4096)  # readable: it does not block
        except OSError:
            data = b""
        if not data:
            self.stop()
            self._on_line(None)
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            self._on_line(line.decode(errors="replace"))


@dataclass
class _Asking:
    """The confirmation being asked about, and the answers to its questions so far."""

    confirmation: dict[str, Any]
    answers: dict[str, str | list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.confirmation.get("id"))


def _answer_from(asking: _Asking, typed: str) -> tuple[str, bool] | None:
    """(response, remember) once ``typed`` completes the answer; None: ask (again, or
    the next of its questions)."""
    questions = _questions(asking.confirmation)
    if questions:
        question = questions[len(asking.answers)]
        chosen = choice(question, typed)
        if chosen is not None:
            asking.answers[question["question"]] = chosen
        return ("answers", False) if len(asking.answers) == len(questions) else None
    word = PERMISSION_WORDS.get(typed.strip().lower())
    if word is None or (word[1] and asking.confirmation.get("kind") == "plan"):
        return None  # a plan is approved once: no "always"
    return word


class ConfirmationAnswerer:
    """Asks about the run's confirmations one at a time, in the order they came."""

    def __init__(self, project: str, options: list[str], out: TextIO, stdin: TextIO | None) -> None:
        """``project`` and ``options`` (the connection options given) go into the
        ``switchboard answer`` commands printed when ``stdin`` is not a terminal."""
        self.project = project
        self.options = options
        self.out = out
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._terminal = TerminalLines.of(stdin, self._line_typed)
        self._waiting: dict[str, dict[str, Any]] = {}
        self._asking: _Asking | None = None
        self._asked = 0
        """Confirmations asked about so far: what was typed before the latest one was
        shown answers nothing."""
        self._prompt_open = False

    def seen(self, data: dict[str, Any]) -> None:
        """A confirmation event of the run, just printed."""
        kind = data.get("type")
        if kind == "confirmation_required" and self._terminal is None:
            self._print(*answer_commands(self.project, data["confirmation"], self.options))
        elif kind == "confirmation_required" or kind in ENDED:
            self._inbox.put_nowait((str(kind), data))

    def _line_typed(self, line: str | None) -> None:
        self._inbox.put_nowait(("line", (self._asked, line)))

    def end_prompt_line(self) -> None:
        """Other output follows: end the line the question left open."""
        if self._prompt_open:
            print(file=self.out, flush=True)
            self._prompt_open = False

    async def run(self, client: SwitchboardClient) -> None:
        """Ask and answer until cancelled (the run ended, or the connection was lost)."""
        if self._terminal is None:
            return
        self._terminal.start()
        if self._asking is not None:  # connected again: the question still stands
            self._ask(self._asking)
        try:
            while True:
                kind, item = await self._inbox.get()
                await self._handle(client, kind, item)
        finally:
            if self._terminal is not None:
                self._terminal.stop()

    async def _handle(self, client: SwitchboardClient, kind: str, item: Any) -> None:
        if kind == "confirmation_required":
            confirmation = item["confirmation"]
            self._waiting[str(confirmation.get("id"))] = confirmation
        elif kind in ENDED:
            ended = str(item.get("confirmation_id"))
            self._waiting.pop(ended, None)
            if self._asking is not None and self._asking.id == ended:
                self._asking = None
                how = f"{ENDED[kind]} ({item.get('response') or item.get('reason')})"
                self._print(f"· confirmation {ended} {how}: no longer asking")
        else:
            asked_then, typed = item
            if typed is None:
                self._input_closed()
            elif self._asking is not None and asked_then == self._asked:
                await self._typed(client, self._asking, typed)
        if self._asking is None and self._waiting and self._terminal is not None:
            self._asking = _Asking(next(iter(self._waiting.values())))
            self._asked += 1
            self._terminal.discard_typeahead()
            self._ask(self._asking)

    def _input_closed(self) -> None:
        """stdin ended: print the commands that answer what is still waiting."""
        self._terminal = None
        self._asking = None
        for confirmation in self._waiting.values():
            self._print(*answer_commands(self.project, confirmation, self.options))

    def _ask(self, asking: _Asking) -> None:
        questions = _questions(asking.confirmation)
        if not questions:
            kind = asking.confirmation.get("kind")
            self._prompt(PLAN_PROMPT if kind == "plan" else PERMISSION_PROMPT)
            return
        question = questions[len(asking.answers)]
        labels = _labels(question)
        self._print(
            f"? {question['question']}", *(f"  {n}. {label}" for n, label in enumerate(labels, 1))
        )
        self._prompt(QUESTION_PROMPT)

    async def _typed(self, client: SwitchboardClient, asking: _Asking, typed: str) -> None:
        self._prompt_open = False  # the person ended the line
        answer = _answer_from(asking, typed)
        if answer is None:
            self._ask(asking)  # again, or its next question
            return
        response, remember = answer
        self._asking = None
        self._waiting.pop(asking.id, None)
        try:
            await client.answer(
                asking.id,
                response,
                answers=asking.answers or None,
                remember=True if remember else None,
            )
        except RequestError as exc:  # answered elsewhere meanwhile, or expired
            self._print(f"· confirmation {asking.id} not answered: {exc.message}")
        except ConnectionLost:  # ask again once connected again
            asking.answers.clear()
            self._asking = asking
            self._waiting[asking.id] = asking.confirmation
            raise

    def _prompt(self, text: str) -> None:
        self.end_prompt_line()
        print(text, end="", file=self.out, flush=True)
        self._prompt_open = True

    def _print(self, *lines: str) -> None:
        self.end_prompt_line()
        for line in lines:
            print(line, file=self.out, flush=True)
