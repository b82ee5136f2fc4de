"""The resume marks a session stores with the output of a process that outlives the hub
(on a remote agent), with stand-ins for the session, the log and the process: the mark
covers exactly what is stored, and a batch that ended a turn is not done with (so the
agent does not forget it) until the run's end is stored too."""

import asyncio
from typing import Any

from switchboard.agents.base import AgentEvent, OutputLine, TurnEnded, TurnMetrics
from switchboard.hub.runs import Run
from switchboard.hub.session_output import OutputTaker
from switchboard.hub.turn import LiveAgent, Turn, TurnOutcome
from switchboard.protocol.messages import RunOptions
from switchboard.store.records import NewEvent

ENDED = TurnEnded(TurnMetrics(1, 1, 0.0, None, "s-1"), None, False)


class Process:
    """A process whose mark is simply how many events of its batch are handled."""

    def __init__(self, remote: bool) -> None:
        self.remote = remote

    def resume_mark(self, handled: int) -> str | None:
        return str(handled) if self.remote else None


class Log:
    def __init__(self) -> None:
        self.appended: list[tuple[list[str], str | None]] = []
        self.two_appends = asyncio.Event()

    async def append(
        self, project_id: str, epoch: int, items: list[NewEvent], mark: str | None = None
    ) -> list[Any]:
        self.appended.append(([item.body for item in items], mark))
        if len(self.appended) == 2:
            self.two_appends.set()
        return []

    def publish_delta(self, project_id: str, frame: str) -> None:
        raise AssertionError("no deltas here")


class Projects:
    def get(self, project_id: str) -> Any:
        return type("Record", (), {"epoch": 1, "session_id": None})()

    def find(self, project_id: str) -> Any:
        return self.get(project_id)

    async def set_session(self, project_id: str, session_id: str | None) -> None:
        pass


class Session:
    project_id = "p1"

    def __init__(self, turn: Turn) -> None:
        self.turn: Turn | None = turn
        self.ended: list[TurnOutcome] = []

    def end_turn_with(self, turn: Turn, outcome: TurnOutcome) -> None:
        self.ended.append(outcome)
        self.turn = None

    def is_current(self, agent: Any) -> bool:
        return True

    def background_changed(self, process: Any) -> None:
        pass


def taker_for(remote: bool) -> tuple[OutputTaker, Session, Log, LiveAgent, Run]:
    run = Run.new("p1", "count", RunOptions())
    process = LiveAgent(Process(remote), (None, None), local=not remote)  # type: ignore[arg-type]
    future: asyncio.Future[TurnOutcome] = asyncio.get_running_loop().create_future()
    session = Session(Turn(run, process.agent, future))
    log = Log()
    taker = OutputTaker(session, log, Projects(), None)  # type: ignore[arg-type]
    return taker, session, log, process, run


async def test_a_turns_end_is_done_with_only_once_its_run_is_recorded() -> None:
    taker, session, log, process, run = taker_for(remote=True)
    batch: list[AgentEvent] = [OutputLine("a"), OutputLine("result"), ENDED, OutputLine("b")]
    taking = asyncio.ensure_future(taker.take(process, batch))
    async with asyncio.timeout(5):
        await log.two_appends.wait()
    assert [o.ended for o in session.ended] == [ENDED]  # the turn is over at once
    assert log.appended == [(["a", "result"], "2"), (["b"], "4")]  # marks as stored
    done, _ = await asyncio.wait({taking}, timeout=0.2)
    assert not done  # but the agent may not forget the batch yet
    run.end_recorded.set()
    async with asyncio.timeout(5):
        await taking
    assert taker.handled_mark(process.agent) == "4"


async def test_a_local_process_keeps_no_marks_and_never_waits() -> None:
    taker, _session, log, process, _run = taker_for(remote=False)
    batch: list[AgentEvent] = [OutputLine("result"), ENDED]
    async with asyncio.timeout(5):
        await taker.take(process, batch)
    assert log.appended == [(["result"], None)]
    assert taker.handled_mark(process.agent) is None
