"""The agent's side of sessions: the agent processes this machine runs for the hub.

The hub sends commands (``launch``, ``prompt``, ``answer``, ``tool_result``,
``cancel``, …) over the link; each is done with the same driver the hub uses for its
own projects, and what the processes print goes back as neutral events. What one
process asks a person, or asks of Switchboard's own tools, is kept and told to the
hub by its :class:`~switchboard.remote_agent.hosted.Hosted`. The agent runs only what
the hub asks, and only inside its own allowed roots: every directory the hub names is
checked here, as a project of this machine would be checked by the hub.

What the processes say for the hub goes through the agent's spool
(:mod:`switchboard.remote_agent.spool`): numbered, kept on disk until the hub has
acknowledged it, and sent again after a reconnect. So a run goes on while the link is
down; token deltas (shown live, never stored) are dropped meanwhile. If the link stays
down longer than the hub's ``link_grace``, every process is stopped.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from switchboard.agents.base import AgentConnection, AgentDriver
from switchboard.agents.remote.codec import event_to_wire, launch_from_wire, session_to_wire
from switchboard.exceptions import AgentError
from switchboard.project_paths import (
    ProjectPathError,
    check_project_path,
    directory_cwd,
    open_project_directory,
)
from switchboard.protocol.agent_link import LinkCommand, LinkFailure
from switchboard.remote_agent.fitting import chunks, fit, newest_fitting
from switchboard.remote_agent.hosted import CommandFailed, Hosted
from switchboard.remote_agent.processes import LocalProcesses
from switchboard.remote_agent.spool import Spool, SpoolFull

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
SendText = Callable[[str], Awaitable[None]]
DEFAULT_MAX_BYTES = 1024 * 1024
"""The hub's message limit until its ``welcome`` says (its own default)."""
CLOSE_GRACE = 2.0
STDERR_SENT = 10_000


class SessionHost:
    """Outlives links: the processes go on between them, their messages in the spool."""

    def __init__(
        self,
        driver: AgentDriver,
        allowed_roots: tuple[Path, ...],
        spool: Spool,
        processes: LocalProcesses | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._driver = driver
        self._roots = allowed_roots
        self._spool = spool
        self._processes = processes
        """Where the CLIs are confined and recorded (None: neither, in tests)."""
        self._max_bytes = max_bytes
        self._send: Send | None = None
        self._queued = asyncio.Event()
        self._grace_timer: asyncio.TimerHandle | None = None
        self._sessions: dict[str, Hosted] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        for key in sorted(spool.sessions()):  # of an earlier run of this agent: gone
            gone = "the agent restarted; its process is gone"
            spool.put({"type": "exited", "session": key, "returncode": None, "stderr": gone})

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    # -- the link ------------------------------------------------------------------------

    def held(self) -> list[str]:
        """The sessions still here: live processes, and those whose messages wait."""
        return sorted(set(self._sessions) | self._spool.sessions())

    async def linked(self, send: Send, send_text: SendText, max_bytes: int, grace: float) -> None:
        """A link is up: send what the spool holds, oldest first, then what comes, until
        cancelled (the link dropped). ``grace``: how long processes may go on after."""
        if self._grace_timer is not None:
            self._grace_timer.cancel()
            self._grace_timer = None
        self._send, self._max_bytes = send, max_bytes
        sent = 0
        try:
            while True:
                self._queued.clear()
                waiting = self._spool.after(sent)
                for seq, body in waiting:
                    await send_text(body)
                    sent = seq
                if not waiting:
                    await self._queued.wait()
        finally:
            self._send = None
            loop = asyncio.get_running_loop()
            self._grace_timer = loop.call_later(grace, self._grace_over)

    def acked(self, seq: int) -> None:
        self._spool.ack(seq)

    def _grace_over(self) -> None:
        self._grace_timer = None
        if self._sessions:
            log.warning("the hub has been away past its grace period: stopping its runs")
        self._spawn(self.close_all())

    def emit(self, message: dict[str, Any]) -> None:
        """Keep a message for the hub in the spool, and have it sent when the link is
        up. Raises SpoolFull."""
        if message["type"] == "output" and self._send is None:  # deltas are live only
            message = {**message, "events": [e for e in message["events"] if e["kind"] != "delta"]}
            if not message["events"]:
                return
        self._spool.put(message)
        self._queued.set()

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def take(self, command: LinkCommand) -> None:
        """Do a command in the background, and reply when it is done."""
        self._spawn(self._do(command))

    async def _do(self, command: LinkCommand) -> None:
        reply: dict[str, Any] = {"type": "reply", "id": command.id}
        try:
            reply["result"] = await self._run(command)
        except CommandFailed as exc:
            reply["error"] = LinkFailure(code=exc.code, message=str(exc)[:10_000]).model_dump()
        except ProjectPathError as exc:
            reply["error"] = {"code": exc.code, "message": exc.message}
        except AgentError as exc:
            reply["error"] = {"code": "agent", "message": str(exc)[:10_000]}
        except (KeyError, TypeError, ValueError) as exc:
            reply["error"] = {"code": "bad_command", "message": f"{command.op}: {exc!r}"}
        send = self._send
        if send is not None:  # else the link is gone: the hub has stopped waiting
            with contextlib.suppress(Exception):
                await send(reply)

    async def _run(self, command: LinkCommand) -> dict[str, Any]:
        args = command.args
        if command.op == "check_path":
            others = [Path(str(other)) for other in args["others"]]
            return {"path": str(check_project_path(str(args["path"]), others, self._roots))}
        if command.op == "list_sessions":
            found = await self._driver.list_sessions(self._inside(args["cwd"]))
            return {"sessions": [session_to_wire(session) for session in found]}
        if command.op == "read_session":
            cwd = self._inside(args["cwd"])
            history = await self._driver.read_session(cwd, str(args["session_id"]))
            if history is None:
                return {"history": None}
            lines, omitted = newest_fitting(history.lines, history.omitted, self._max_bytes)
            return {"history": {"lines": lines, "omitted": omitted, "too_long": history.too_long}}
        if command.session is None:
            raise CommandFailed("bad_command", f"{command.op} needs a session")
        if command.op == "launch":
            return await self._launch(command.session, args)
        return await self._session(command.session).command(command.op, args)

    def _inside(self, raw: object) -> Path:
        """A directory the hub names: it must be a project directory here (within the
        allowed roots, not a system directory), as it is now."""
        path = Path(str(raw))
        checked = check_project_path(path, [], self._roots)
        if checked != path:
            raise ProjectPathError("bad_path", f"{path} is not a canonical project path here")
        return checked

    async def _launch(self, key: str, args: dict[str, Any]) -> dict[str, Any]:
        if key in self._sessions:
            raise CommandFailed("bad_command", f"session {key} exists")
        cwd = self._inside(args["cwd"])
        hosted = self._sessions[key] = Hosted(key, self)
        directory = open_project_directory(cwd)
        processes = self._processes
        confinement = processes.confine() if processes is not None else None
        try:
            spec = launch_from_wire(args, cwd, directory_cwd(directory, cwd), confinement)
            connection = await self._driver.launch(spec, hosted)
        except BaseException:
            del self._sessions[key]
            raise
        finally:
            os.close(directory)
        if processes is not None and confinement is not None:
            processes.record(connection.pid, confinement)
        hosted.connection = connection
        hosted.pump = asyncio.create_task(self._pump(hosted, connection), name=f"pump-{key}")
        log.info("launched %s pid %s in %s for the hub", self._driver.name, connection.pid, cwd)
        return {"pid": connection.pid}

    def _session(self, key: str) -> Hosted:
        hosted = self._sessions.get(key)
        if hosted is None or hosted.connection is None:
            raise CommandFailed("unknown_session", f"no session {key}")
        return hosted

    async def _pump(self, hosted: Hosted, connection: AgentConnection) -> None:
        """Keep everything the process prints for the hub, in messages that fit its
        limit; then that it exited."""
        try:
            async for batch in connection.batches():
                events = [fit(event_to_wire(event), self._max_bytes) for event in batch]
                for chunk in chunks(events, self._max_bytes):
                    self.emit(
                        {
                            "type": "output",
                            "session": hosted.key,
                            "events": chunk,
                            "background_pending": connection.background_pending(),
                            "turn_running": connection.turn_running,
                        }
                    )
            returncode = await connection.wait()
            self._forget(hosted, connection)
            stderr = connection.stderr_text[-STDERR_SENT:]
            exited = {"type": "exited", "session": hosted.key, "returncode": returncode}
            self.emit({**exited, "stderr": stderr})
        except SpoolFull as exc:  # its output could not be kept: it must not go on unseen
            log.error("stopping session %s: %s", hosted.key, exc)
            with contextlib.suppress(Exception):
                await connection.close(CLOSE_GRACE)
            self._forget(hosted, connection)

    def _forget(self, hosted: Hosted, connection: AgentConnection) -> None:
        """The process has ended: nothing of it is left to stop at the next start."""
        self._sessions.pop(hosted.key, None)
        if self._processes is not None:
            self._processes.forget(connection.pid)

    async def close_all(self) -> None:
        """Stop every process, and the commands under way (the hub stayed away past
        its grace, or the agent itself stops)."""
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        hosted = list(self._sessions.values())
        self._sessions.clear()
        for session in hosted:
            if session.connection is not None:
                with contextlib.suppress(Exception):
                    await session.connection.close(CLOSE_GRACE)
            if session.pump is not None:
                session.pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await session.pump
