"""``--on-confirmation CMD``: tell the desktop (a notification, a sound) about a question.

For every new confirmation the command runs, without a shell, with the confirmation's
JSON on its stdin. It runs on the side: the confirmation never waits for it, and a
command that fails, cannot start or takes longer than ``timeout`` seconds (its process
group is then killed) is only logged.
"""

import asyncio
import contextlib
import logging
import os
import signal

from switchboard.protocol.messages import ConfirmationInfo

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT = 30.0
MAX_RUNNING = 16
"""Commands running at once; a confirmation beyond that is not announced (logged)."""


class ConfirmationNotifier:
    def __init__(self, argv: list[str], timeout: float = NOTIFY_TIMEOUT) -> None:
        self.argv = argv
        self.timeout = timeout
        self._running: set[asyncio.Task[None]] = set()

    def notify(self, confirmation: ConfirmationInfo) -> None:
        if len(self._running) >= MAX_RUNNING:
            log.warning(
                "--on-confirmation: %d commands still running; not run for %s",
                len(self._running),
                confirmation.id,
            )
            return
        task = asyncio.get_running_loop().create_task(self._run(confirmation.model_dump_json()))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, payload: str) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            log.warning("--on-confirmation could not start %s: %s", self.argv[0], exc)
            return
        try:
            _, stderr = await asyncio.wait_for(process.communicate(payload.encode()), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            log.warning("--on-confirmation took over %g s and was killed", self.timeout)
            return
        if process.returncode != 0:
            tail = stderr.decode(errors="replace").strip()[-500:]
            log.warning("--on-confirmation exited with %s: %s", process.returncode, tail)

    async def aclose(self) -> None:
        """Wait for the commands still running (each is bounded by ``timeout``)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
