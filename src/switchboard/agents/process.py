"""Supervise one child process and its whole process group.

The child runs in a new session (``start_new_session=True``), so it leads its own
process group and everything it forks stays in that group. Teardown is escalating and
always complete: SIGTERM to the group, a grace period, SIGKILL to the group, reap. When
the child exits on its own, whatever it left behind in its group is killed too, so no
process outlives its run. (A descendant that calls ``setsid()`` leaves the group and is
out of reach; the CLI's tools do not do that.)
"""

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from switchboard.exceptions import AgentGoneError, AgentSpawnError

READ_CHUNK = 256 * 1024
DEFAULT_EOF_GRACE = 2.0
"""After the child exits, how long to wait for its pipes to reach EOF."""


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

    def process_exited(self) -> None:
        super().process_exited()
        self.exited.set()


class AgentProcess:
    """A running child process with piped stdio. Create with :meth:`spawn`."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        exited: asyncio.Event,
        stderr_limit: int,
        eof_grace: float,
    ) -> None:
        self._proc = proc
        self._exited = exited
        self._eof_grace = eof_grace
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
    ) -> "AgentProcess":
        """Start ``argv`` (never through a shell) in its own process group."""
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
            raise AgentSpawnError(f"could not start {argv[0]}: {exc.strerror or exc}") from exc
        proc = asyncio.subprocess.Process(transport, protocol, loop)
        return cls(proc, protocol.exited, stderr_limit, eof_grace)

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
        self._signal_group(signal.SIGKILL)  # leftovers in the group die with the leader
        code = self._proc.returncode
        assert code is not None
        return code

    async def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(READ_CHUNK):
            self.stderr.add(chunk)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, sig)

    async def read_stdout(self) -> bytes:
        """The next chunk of stdout; ``b""`` at end of stream.

        Once the child has exited, stdout is drained for at most ``eof_grace`` seconds, so
        a stray descendant holding the pipe open cannot stall the reader forever.
        """
        assert self._proc.stdout is not None
        read = asyncio.ensure_future(self._proc.stdout.read(READ_CHUNK))
        try:
            if not self._exit_task.done():
                await asyncio.wait({read, self._exit_task}, return_when=asyncio.FIRST_COMPLETED)
            if read.done():
                return read.result()
            return await asyncio.wait_for(read, self._eof_grace)
        except TimeoutError:
            return b""
        finally:
            read.cancel()

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

    async def wait(self) -> int:
        """Wait for the child to exit on its own."""
        return await asyncio.shield(self._exit_task)

    async def terminate(self, grace: float) -> int:
        """SIGTERM the group, wait ``grace`` seconds, SIGKILL the group, reap.

        Idempotent. If cancelled part-way, the group is SIGKILLed before the
        cancellation propagates, so a cancelled teardown still leaves nothing behind.
        """
        try:
            if self._proc.returncode is None:
                self._signal_group(signal.SIGTERM)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(self._exit_task), grace)
            self._signal_group(signal.SIGKILL)
            return await asyncio.shield(self._exit_task)
        except asyncio.CancelledError:
            self._signal_group(signal.SIGKILL)
            raise

    async def aclose(self, grace: float) -> int:
        """Terminate if still running and release every resource. Safe to call twice."""
        code = await self.terminate(grace)
        self.close_stdin()
        try:
            await asyncio.wait_for(asyncio.shield(self._stderr_task), self._eof_grace)
        except TimeoutError:
            self._stderr_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
        # Pipes not read to EOF keep their transports open; asyncio exposes no public
        # close for a subprocess, so close its transport (the process is reaped by now).
        transport = getattr(self._proc, "_transport", None)
        if transport is not None:
            transport.close()
        return code
