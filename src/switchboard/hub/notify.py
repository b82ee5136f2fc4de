"""``--on-confirmation CMD`` and ``--on-notification CMD``: tell the desktop (a
notification, a sound) about a question, or about a notification Claude sends.

For every new confirmation (notification) the command runs, without a shell, with its
JSON on stdin. It runs on the side: the confirmation never waits for it, and a
command that fails, cannot start or takes longer than ``timeout`` seconds (its process
group is then killed) is only logged.
"""

import asyncio
import contextlib
import logging
import os
import signal

from pydantic import BaseModel

from switchboard.protocol.messages import ConfirmationInfo

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT = 30.0
MAX_RUNNING = 16
"""Commands running at once; a confirmation beyond that is not announced (logged)."""


class CommandNotifier:
    def __init__(
        self, argv: list[str], timeout: float = NOTIFY_TIMEOUT, option: str = "--on-confirmation"
    ) -> None:
        self.argv = argv
        self.timeout = timeout
        self.option = option
        self._running: set[asyncio.Task[None]] = set()

    def notify(self, confirmation: ConfirmationInfo) -> None:
        self.send(confirmation, confirmation.id)

    def send(self, payload: BaseModel, label: str) -> None:
        """Run the command with ``payload`` on its stdin (on the side)."""
        if len(self._running) >= MAX_RUNNING:
            log.warning(
                "%s: %d commands still running; not run for %s",
                self.option,
                len(self._running),
                label,
            )
            return
        task = asyncio.get_running_loop().create_task(self._run(payload.model_dump_json()))
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
            log.warning("%s could not start %s: %s", self.option, self.argv[0], exc)
            return
        try:
            _, stderr = await asyncio.wait_for(process.communicate(payload.encode()), self.timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            log.warning("%s took over %g s and was killed", self.option, self.timeout)
            return
        if process.returncode != 0:
            tail = stderr.decode(errors="replace").strip()[-500:]
            log.warning("%s exited with %s: %s", self.option, process.returncode, tail)

    async def aclose(self) -> None:
        """Wait for the commands still running (each is bounded by ``timeout``)."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
