"""Supervise one child process and its whole process group.

The child runs in a new session (``start_new_session=True``), so it leads its own
process group and everything it forks stays in that group. Teardown is escalating and
always complete: SIGTERM to the group, a grace period for the whole group to exit,
SIGKILL to whatever is left, reap. When the child exits on its own, whatever it left
behind in its group goes the same way, so no process outlives its run.

A descendant that calls ``setsid()`` leaves the group (Claude Code runs every Bash
command that way); given a :class:`~switchboard.agents.containment.Confinement`, each
step reaches its processes too: every one the child started, ``setsid()`` or not.
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from switchboard.agents.containment import Confinement, not_found
from switchboard.exceptions import AgentGoneError, AgentSpawnError

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
DEFAULT_EOF_GRACE = 2.0
"""After the child exits, how long (in total) to wait for its pipes to reach EOF."""
DEFAULT_LEFTOVER_GRACE = 0.5
"""When the child exits by itself, how long its leftovers get between SIGTERM and SIGKILL."""
GROUP_POLL_SECONDS = 0.02
"""How often a stopping group is checked for members (there is no event for it)."""


def _stat_fields(stat_path: Path) -> list[bytes] | None:
    """``/proc/PID/stat`` from field 3 (state) on, or None if the process is gone."""
    try:
        stat = stat_path.read_bytes()
    except OSError:
        return None
    return stat[stat.rindex(b")") + 2 :].split()  # after the command name, which may hold ")"


def _live_group_members(pgid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry / "stat")
        if fields is not None and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            yield int(entry.name)


def group_members(pgid: int) -> list[int]:
    """The live (non-zombie) processes of group ``pgid`` (Linux /proc)."""
    return list(_live_group_members(pgid))


def group_has_live_member(pgid: int) -> bool:
    """True if a non-zombie process is in group ``pgid`` (Linux /proc; elsewhere assume so)."""
    if not Path("/proc/self/stat").exists():
        return True
    return any(True for _ in _live_group_members(pgid))


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return fields is not None and fields[0] not in (b"Z", b"X")


def start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot, field 22), or None if it is gone."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    return int(fields[19]) if fields is not None else None


class BoundedTail:
    """Keeps the last ``limit`` bytes of a stream and counts what it dropped."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._buffer = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self._buffer += chunk
        excess = len(self._buffer) - self._limit
        if excess > 0:
            del self._buffer[:excess]
            self.dropped += excess

    def text(self) -> str:
        body = self._buffer.decode("utf-8", errors="replace")
        return f"[{self.dropped} earlier bytes dropped]\n{body}" if self.dropped else body


class _ExitAwareProtocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Notes the moment the child exits.

    ``Process.wait()`` returns only once every pipe is closed too, so a descendant that
    keeps stdout open would hide the exit; this callback fires on the exit itself.
    """

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited = asyncio.Event()
        self._pipes: asyncio.SubprocessTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if isinstance(transport, asyncio.SubprocessTransport):
            self._pipes = transport

    def process_exited(self) -> None:
        super().process_exited()
        self.exited.set()

    def close_stdout(self) -> None:
        """Close our end of the child's stdout: its reader sees the end once it has read
        what arrived (a descendant still writing to the pipe then gets EPIPE)."""
        pipe = self._pipes.get_pipe_transport(1) if self._pipes is not None else None
        if pipe is not None and not pipe.is_closing():
            pipe.close()


class AgentProcess:
    """A running child process with piped stdio. Create with :meth:`spawn`."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        exited: asyncio.Event,
        stderr_limit: int,
        eof_grace: float,
        leftover_grace: float = DEFAULT_LEFTOVER_GRACE,
        *,
        confinement: Confinement | None = None,
        close_stdout: Callable[[], None],
    ) -> None:
        self._proc = proc
        self._close_stdout = close_stdout
        self.confinement = confinement
        """Where all its processes are, beyond its group (None: the group only)."""
        self._exited = exited
        self._eof_grace = eof_grace
        self._leftover_grace = leftover_grace
        self._stopping = False  # a terminate() owns the group's teardown
        self._group_gone = False  # never signal a group id known to be empty
        self.stderr = BoundedTail(stderr_limit)
        self._exit_task = asyncio.create_task(self._watch_exit(), name=f"agent-exit-{proc.pid}")
        self._stderr_task = asyncio.create_task(self._drain_stderr(), name=f"agent-err-{proc.pid}")

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        stderr_limit: int = 64 * 1024,
        eof_grace: float = DEFAULT_EOF_GRACE,
        leftover_grace: float = DEFAULT_LEFTOVER_GRACE,
        confinement: Confinement | None = None,
    ) -> "AgentProcess":
        """Start ``argv`` (never through a shell) in its own process group, and in
        ``confinement`` if given."""
        if confinement is not None:
            if confinement.cgroup is not None and (why := not_found(argv[0], env)):
                confinement.remove()
                raise AgentSpawnError(f"could not start {argv[0]}: {why}")  # not the launcher
            argv, env = confinement.command(argv), confinement.environment(env)
        loop = asyncio.get_running_loop()
        protocol = _ExitAwareProtocol(READ_CHUNK, loop)
        try:
            transport, _ = await loop.subprocess_exec(
                lambda: protocol,
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )
        except OSError as exc:
            if confinement is not None:
                confinement.remove()
            raise AgentSpawnError(f"could not start {argv[0]}: {exc.strerror or exc}") from exc
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        return cls(
            *(proc, protocol.exited, stderr_limit, eof_grace, leftover_grace),
            confinement=confinement,
            close_stdout=protocol.close_stdout,
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def pgid(self) -> int:
        """The process group id; equal to the pid, since the child leads a new session."""
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """Exit status once exited (negative: killed by that signal), else None."""
        return self._proc.returncode

    async def _watch_exit(self) -> int:
        await self._exited.wait()
        # the output ends at the deadline at the latest
        asyncio.get_running_loop().call_later(self._eof_grace, self._close_stdout)
        if not self._stopping:  # exited by itself: its leftovers go the same way
            await self._stop_group(self._leftover_grace)
        code = self._proc.returncode
        assert code is not None
        return code

    async def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(READ_CHUNK):
            self.stderr.add(chunk)

    def _signal_group(self, sig: int) -> bool:
        """Signal the whole group (0 only probes it). False once it is known to be empty."""
        if self._group_gone:
            return False
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            self._group_gone = True  # from now on the id may belong to someone else
            return False
        except PermissionError:
            return False
        return True

    def _group_alive(self) -> bool:
        """Whether the group still has a process that is not a zombie.

        Zombies count for ``killpg(pgid, 0)`` until someone reaps them, and orphans are
        reaped by PID 1, which in some containers takes its time; on Linux, /proc tells.
        """
        if not self._signal_group(0):
            return False
        return group_has_live_member(self.pgid)

    def _signal_all(self, sig: int) -> bool:
        """Signal the group and every process of the confinement; False if none got it."""
        sent = self._signal_group(sig)
        if self.confinement is not None:
            sent = self.confinement.signal(sig) > 0 or sent
        return sent

    async def _anyone_alive(self) -> bool:
        if self._group_alive():
            return True
        confinement = self.confinement  # /proc is read in a thread: it may hold many
        return confinement is not None and await asyncio.to_thread(confinement.populated)

    async def _all_gone(self) -> None:
        """Return once no live process is left in the group or the confinement (polled:
        there is no event for it)."""
        while await self._anyone_alive():  # noqa: ASYNC110 (no event exists for this)
            await asyncio.sleep(GROUP_POLL_SECONDS)

    async def _stop_group(self, grace: float) -> None:
        """SIGTERM the group and the confinement, give them ``grace`` seconds to empty,
        SIGKILL what is left."""
        try:
            if self._signal_all(signal.SIGTERM):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._all_gone(), grace)
        finally:  # also when cancelled: nothing may outlive the teardown
            self._signal_all(signal.SIGKILL)

    async def stop_detached(self, grace: float) -> list[int]:
        """Stop the confinement's processes that no longer descend from the child (a
        daemon, the job of a shell that has ended), TERM → ``grace`` → KILL, while the
        child and what it still runs stay. Returns their PIDs (none without one)."""
        confinement = self.confinement
        if confinement is None or self._proc.returncode is not None:
            return []
        left = await asyncio.to_thread(confinement.detached_from, self.pid)
        if not left:
            return []
        log.info("stopping %d detached process(es) of pid %s: %s", len(left), self.pid, left)

        async def gone() -> None:
            while any(alive(pid) for pid in left):  # noqa: ASYNC110 (no event for it)
                await asyncio.sleep(GROUP_POLL_SECONDS)

        try:
            if confinement.signal(signal.SIGTERM, left):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gone(), grace)
        finally:
            confinement.signal(signal.SIGKILL, confinement.detached_from(self.pid))
        return left

    async def read_stdout(self) -> bytes:
        """The next chunk of stdout; ``b""`` at end of stream.

        Once the child has exited, stdout is drained for at most ``eof_grace`` seconds in
        total, so a stray descendant holding the pipe open cannot stall the reader: at
        the deadline our end of the pipe is closed, and the reader sees the end once it
        has what had arrived.
        """
        assert self._proc.stdout is not None
        return await self._proc.stdout.read(READ_CHUNK)

    async def write(self, data: bytes) -> None:
        """Write to stdin. Raises :class:`AgentGoneError` if the child stopped reading."""
        stdin = self._proc.stdin
        if stdin is None or stdin.is_closing():
            raise AgentGoneError("the agent's stdin is closed")
        try:
            stdin.write(data)
            await stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise AgentGoneError("the agent exited while we were writing to it") from exc

    def close_stdin(self) -> None:
        """Signal end of input (the CLI finishes its turn, then exits)."""
        stdin = self._proc.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()

    def kill_now(self) -> None:
        """SIGKILL the group and the confinement at once, without waiting (forced exit)."""
        self._stopping = True
        self._signal_all(signal.SIGKILL)

    async def wait(self) -> int:
        """Wait for the child to exit on its own (and its leftovers to be stopped)."""
        return await asyncio.shield(self._exit_task)

    async def terminate(self, grace: float) -> int:
        """SIGTERM the group, wait up to ``grace`` seconds for it to empty, SIGKILL, reap.

        Every process in the group gets the grace, not only the child: tools may need
        it to clean up (a lock file, a temp dir). Idempotent. If cancelled part-way, the
        group is SIGKILLed before the cancellation propagates.
        """
        if not self._exited.is_set():
            self._stopping = True
        if self._stopping:
            await self._stop_group(grace)
        return await asyncio.shield(self._exit_task)

    async def aclose(self, grace: float) -> int:
        """Terminate if still running and release every resource. Safe to call twice."""
        try:
            return await self.terminate(grace)
        finally:
            self.close_stdin()
            try:
                await asyncio.wait_for(asyncio.shield(self._stderr_task), self._eof_grace)
            except (TimeoutError, asyncio.CancelledError):
                self._stderr_task.cancel()
            # Pipes not read to EOF keep their transports open; asyncio has no public
            # close for a subprocess, so close its transport (the child is reaped by now,
            # or SIGKILLed and reaped by the child watcher).
            transport = getattr(self._proc, "_transport", None)
            if transport is not None:
                transport.close()
            await self._release_confinement()

    async def _release_confinement(self) -> None:
        """Remove the confinement's cgroup once the SIGKILLed have gone (bounded)."""
        confinement = self.confinement
        if confinement is None or confinement.cgroup is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_gone(), self._eof_grace)
        if not confinement.remove():
            log.warning("could not remove cgroup %s: still busy", confinement.cgroup)
