"""Confirmations: the agent asks (a :class:`PermissionAsk`), any client answers.

Each question becomes a confirmation with options and a countdown. Its life is told
in ``confirmation`` events of the project's log (so subscribers and replays see it):
``confirmation_required``, then exactly one of ``confirmation_answered`` or
``confirmation_expired``, with ``confirmation_timer`` events when a client pauses or
resumes the countdown. The first valid answer wins: it is taken from the pending set
before anything is awaited, so a second answer finds it gone.

Skills ask too (the skill API's ``request_confirmation``): such a confirmation has kind
``skill``, the producer's options, and falls back to ``let_claude`` instead of deny.
So does Claude through the back-channel's ``request_approval``: kind ``approval``, with
the proposed changes as diffs, answered ``approve`` or ``reject`` (with a comment).
"""

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from switchboard.agents.base import PermissionAsk
from switchboard.hub.confirmation import (
    APPROVAL_OPTIONS,
    DENY,
    TOOL_OPTIONS,
    Confirmation,
    ConfirmationError,
    Decision,
    Deliver,
    ExpiryReason,
    Record,
    chosen_answers,
)
from switchboard.hub.confirmation_waits import WaitClock
from switchboard.protocol.back_channel import ApprovalInfo
from switchboard.protocol.messages import (
    ConfirmationAnswered,
    ConfirmationExpired,
    ConfirmationInfo,
    ConfirmationKind,
    ConfirmationRequired,
    ConfirmationTimer,
)
from switchboard.protocol.skills import LET_CLAUDE, SkillQuestion
from switchboard.store.ports import RuleStore
from switchboard.telemetry import Telemetry

log = logging.getLogger(__name__)

RESOLVED_REMEMBERED = 4096
"""Answered or expired confirmations remembered, to tell a late answer from a bad id."""


class ConfirmationBook:
    """Every pending confirmation of the hub, with its countdown."""

    def __init__(
        self,
        record: Record,
        timeouts: dict[ConfirmationKind, float],
        rules: RuleStore | None = None,
        on_open: Callable[[ConfirmationInfo], None] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._record = record
        self._telemetry = telemetry
        self._rules = rules
        self._on_open = on_open
        self._timeouts = timeouts
        self._pending: dict[str, Confirmation] = {}
        self._resolved: OrderedDict[str, str] = OrderedDict()  # id → how it ended
        self._expiring: set[asyncio.Future[None]] = set()
        self._waits = WaitClock()

    def pending(self, project_id: str | None = None) -> list[ConfirmationInfo]:
        return [
            c.info()
            for c in self._pending.values()
            if project_id is None or c.project_id == project_id
        ]

    def get(self, confirmation_id: str) -> Confirmation:
        confirmation = self._pending.get(confirmation_id)
        if confirmation is not None:
            return confirmation
        ended = self._resolved.get(confirmation_id)
        if ended == "answered":
            raise ConfirmationError("already_answered", f"{confirmation_id} was already answered")
        if ended is not None:
            raise ConfirmationError("already_answered", f"{confirmation_id} has {ended}")
        raise ConfirmationError("unknown_confirmation", f"no confirmation {confirmation_id!r}")

    async def open(
        self,
        project_id: str,
        run_id: str | None,
        request: PermissionAsk,
        deliver: Deliver,
    ) -> Confirmation:
        """Register the agent's question, log it, start its countdown."""
        timeout = self._timeouts[request.kind]
        confirmation = Confirmation(
            uuid.uuid4().hex[:16], project_id, run_id, request, deliver, timeout
        )
        if not await self._begin(confirmation):
            return confirmation  # answered or expired while it was being logged
        rule = self._rules.match(project_id, request.rule_keys) if self._rules is not None else None
        if rule is not None:  # remembered: answered at once, and everyone sees by what
            await self.answer(confirmation.id, "allow", by="rule", rule=rule.id)
        elif self._on_open is not None:
            self._on_open(confirmation.info())
        return confirmation

    async def open_skill(
        self,
        project_id: str,
        question: SkillQuestion,
        options: list[str],
        timeout_seconds: float | None,
        deliver: Deliver,
    ) -> Confirmation:
        """Register a skill's question (answers: its options, or let_claude)."""
        offered = tuple(dict.fromkeys([*options, LET_CLAUDE]))
        timeout = timeout_seconds if timeout_seconds is not None else self._timeouts["question"]
        confirmation = Confirmation(
            uuid.uuid4().hex[:16], project_id, None, None, deliver, timeout, question, offered
        )
        if await self._begin(confirmation) and self._on_open is not None:
            self._on_open(confirmation.info())
        return confirmation

    async def open_approval(
        self,
        project_id: str,
        run_id: str | None,
        call_id: str,
        approval: ApprovalInfo,
        deliver: Deliver,
    ) -> Confirmation:
        """Register Claude's request_approval (answers: approve or reject)."""
        confirmation = Confirmation(
            uuid.uuid4().hex[:16],
            project_id,
            run_id,
            None,
            deliver,
            self._timeouts["approval"],
            approval=approval,
            call_id=call_id,
        )
        if await self._begin(confirmation) and self._on_open is not None:
            self._on_open(confirmation.info())
        return confirmation

    async def _begin(self, confirmation: Confirmation) -> bool:
        """Make it pending, start its countdown, log it; False if it ended meanwhile."""
        confirmation.remaining = confirmation.timeout_seconds
        confirmation.since = asyncio.get_running_loop().time()
        self._pending[confirmation.id] = confirmation
        self._arm(confirmation)
        self._waits.note(confirmation.run_id, +1)
        body = ConfirmationRequired(confirmation=confirmation.info())
        try:
            await self._record(confirmation.project_id, confirmation.run_id, body)
        except BaseException:
            if self._pending.get(confirmation.id) is confirmation:
                self._settle(confirmation, "expired")  # the asker gets the handler's deny
            raise
        return confirmation.id in self._pending

    async def answer(
        self,
        confirmation_id: str,
        response: str,
        *,
        message: str | None = None,
        updated_input: dict[str, Any] | None = None,
        answers: dict[str, str | list[str]] | None = None,
        remember: bool = False,
        by: Literal["client", "rule"] = "client",
        rule: str | None = None,
        answered_by: str | None = None,
    ) -> Confirmation:
        """Apply the first valid answer. Raises :class:`ConfirmationError`.
        ``answered_by``: the name of the token that answered (a client's answer).

        ``remember`` with ``allow`` stores a rule that answers matching requests of the
        project from now on.
        """
        confirmation = self.get(confirmation_id)
        request = confirmation.request
        if confirmation.approval is not None:
            return await self._answer_approval(confirmation, response, message, answered_by)
        if request is None:
            return await self._answer_skill(confirmation, response, remember, message, answered_by)
        chosen: dict[str, str] | None = None
        if confirmation.kind == "question" and request.questions and response != DENY:
            chosen = chosen_answers(request, response, answers)
            response = "allow" if answers else response
        elif response not in TOOL_OPTIONS:
            options = ", ".join(TOOL_OPTIONS)
            raise ConfirmationError("invalid_option", f"answer with one of: {options}")
        self._settle(confirmation, "answered")
        self._count_answer(confirmation, by)
        if response != DENY:
            decision = Decision(True, updated_input, chosen, response="allow")
        else:
            decision = Decision(False, message=message or "The user denied this.", response=DENY)
        await self._deliver(confirmation, decision)  # first: nothing may keep it from the CLI
        remembered: list[str] = []
        rememberable = confirmation.kind != "question"  # answers are not rules
        if remember and rememberable and response == "allow" and self._rules is not None:
            try:
                stored = await self._rules.remember(confirmation.project_id, request.rule_keys)
            except Exception as exc:
                log.error("could not remember a rule for %s: %s", confirmation.id, exc)
            else:
                remembered = [stored_rule.id for stored_rule in stored]
        body = ConfirmationAnswered(
            confirmation_id=confirmation.id,
            response=response,
            by=by,
            at=time.time(),
            message=message or None,
            rule=rule,
            remembered=remembered or None,
            answered_by=answered_by,
        )
        await self._record(confirmation.project_id, confirmation.run_id, body)
        return confirmation

    async def _answer_skill(
        self,
        confirmation: Confirmation,
        response: str,
        remember: bool,
        message: str | None,
        answered_by: str | None,
    ) -> Confirmation:
        decision = Decision(True, response=response, remember=remember)
        return await self._answer_option(confirmation, decision, message, remember, answered_by)

    async def _answer_approval(
        self,
        confirmation: Confirmation,
        response: str,
        message: str | None,
        answered_by: str | None,
    ) -> Confirmation:
        approved = response == APPROVAL_OPTIONS[0]
        decision = Decision(approved, message=message or "", response=response)
        return await self._answer_option(confirmation, decision, message, None, answered_by)

    async def _answer_option(
        self,
        confirmation: Confirmation,
        decision: Decision,
        message: str | None,
        remember: bool | None,
        answered_by: str | None,
    ) -> Confirmation:
        """Answer with one of the confirmation's own options (a skill's, an approval's)."""
        if decision.response not in confirmation.options:
            options = ", ".join(confirmation.options)
            raise ConfirmationError("invalid_option", f"answer with one of: {options}")
        self._settle(confirmation, "answered")
        self._count_answer(confirmation, "client")
        await self._deliver(confirmation, decision)
        body = ConfirmationAnswered(
            confirmation_id=confirmation.id,
            response=decision.response,
            by="client",
            at=time.time(),
            message=message or None,
            remember=remember,
            answered_by=answered_by,
        )
        await self._record(confirmation.project_id, confirmation.run_id, body)
        return confirmation

    async def set_paused(self, confirmation_id: str, paused: bool) -> Confirmation:
        """Pause or resume a countdown for everyone (the skill API's pause/resume_timer)."""
        confirmation = self.get(confirmation_id)
        if confirmation.paused != paused:
            now = asyncio.get_running_loop().time()
            confirmation.remaining = confirmation.remaining_now()
            confirmation.since = now
            confirmation.paused = paused
            if confirmation.timer is not None:
                confirmation.timer.cancel()
                confirmation.timer = None
            if not paused:
                self._arm(confirmation)
        body = ConfirmationTimer(
            confirmation_id=confirmation.id,
            paused=paused,
            remaining_seconds=round(confirmation.remaining_now(), 3),
        )
        await self._record(confirmation.project_id, confirmation.run_id, body)
        return confirmation

    async def expire(
        self, confirmation: Confirmation, reason: ExpiryReason, *, tell_cli: bool = True
    ) -> None:
        """End a pending confirmation without an answer; the CLI gets a deny."""
        if self._pending.get(confirmation.id) is not confirmation:
            return
        self._settle(confirmation, "expired")
        if self._telemetry is not None:
            self._telemetry.confirmation_expired(confirmation.kind, reason)
        fallback: Literal["deny", "let_claude"] = (
            "let_claude" if confirmation.kind == "skill" else "deny"
        )
        if tell_cli:
            waited = f"{confirmation.timeout_seconds:g} s"
            why = {
                "timeout": f"No answer came within {waited}; the request was denied.",
                "cancelled": "The run was cancelled.",
            }.get(reason, "The request was closed without an answer.")
            await self._deliver(confirmation, Decision(False, message=why, response=fallback))
        body = ConfirmationExpired(
            confirmation_id=confirmation.id,
            reason=reason,
            fallback=fallback,
        )
        await self._record(confirmation.project_id, confirmation.run_id, body)

    async def expire_where(
        self,
        reason: ExpiryReason,
        *,
        run_id: str | None = None,
        request_id: str | None = None,
        project_id: str | None = None,
    ) -> None:
        """Expire the pending confirmations of a run, or the one of a CLI request."""
        for confirmation in list(self._pending.values()):
            if run_id is not None and confirmation.run_id != run_id:
                continue
            asked = confirmation.request
            asked_id = asked.request_id if asked is not None else confirmation.call_id
            if request_id is not None and asked_id != request_id:
                continue
            if project_id is not None and confirmation.project_id != project_id:
                continue
            await self.expire(confirmation, reason, tell_cli=reason != "withdrawn")

    async def withdraw(self, confirmation_id: str) -> None:
        """Whoever asked stopped waiting (a skill's task ended, its producer left)."""
        confirmation = self._pending.get(confirmation_id)
        if confirmation is not None:
            await self.expire(confirmation, "withdrawn", tell_cli=False)

    def close(self) -> None:
        """Shutdown: no countdown may fire any more."""
        for confirmation in self._pending.values():
            if confirmation.timer is not None:
                confirmation.timer.cancel()

    def person_seconds(self, run_id: str) -> float:
        """How long the run has had a confirmation waiting for a person (so far)."""
        return self._waits.seconds(run_id)

    def has_pending(self, run_id: str) -> bool:
        return any(c.run_id == run_id for c in self._pending.values())

    def leave_open(self, run_id: str) -> None:
        """Shutdown, with the run going on elsewhere (on a remote agent): its questions
        stay unanswered for the next hub, which asks them again."""
        for confirmation in list(self._pending.values()):
            if confirmation.run_id == run_id:
                self._settle(confirmation, "left open")

    def forget_run(self, run_id: str) -> None:
        self._waits.forget(run_id)

    def _settle(self, confirmation: Confirmation, how: str) -> None:
        del self._pending[confirmation.id]
        self._waits.note(confirmation.run_id, -1)
        if confirmation.timer is not None:
            confirmation.timer.cancel()
        self._resolved[confirmation.id] = how
        while len(self._resolved) > RESOLVED_REMEMBERED:
            self._resolved.popitem(last=False)

    def _count_answer(self, confirmation: Confirmation, by: str) -> None:
        if self._telemetry is not None:
            waited = time.time() - confirmation.created_at
            self._telemetry.confirmation_answered(confirmation.kind, by, waited)

    def _arm(self, confirmation: Confirmation) -> None:
        loop = asyncio.get_running_loop()
        confirmation.timer = loop.call_later(confirmation.remaining, self._on_timeout, confirmation)

    def _on_timeout(self, confirmation: Confirmation) -> None:
        task = asyncio.ensure_future(self.expire(confirmation, "timeout"))
        self._expiring.add(task)
        task.add_done_callback(self._expired)

    def _expired(self, task: "asyncio.Future[None]") -> None:
        self._expiring.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("expiring a confirmation failed: %r", task.exception())

    async def _deliver(self, confirmation: Confirmation, decision: Decision) -> None:
        try:
            addressed = replace(decision, confirmation_id=confirmation.id)
            delivered = await confirmation.deliver(addressed)
        except Exception as exc:  # the CLI is gone: nothing waits for the answer
            log.info("answer to confirmation %s not delivered: %s", confirmation.id, exc)
            return
        if delivered is False:
            log.warning("the CLI no longer waited for confirmation %s", confirmation.id)
