"""Run Switchboard inside a Python program (``start/get/stop`` helpers).

    from switchboard.embed import start_switchboard, stop_switchboard

    switchboard = await start_switchboard(data_dir=Path("state"), port=9876)
    await switchboard.add_project("/path/to/repo")
    skills = switchboard.skills("repo")
    await skills.skill_started("deploy-1", "deploy", steps=["build", "ship"])
    answer = await skills.request_confirmation("deploy-1", 1, "Ship it?", ["ship", "wait"])
    ...
    await stop_switchboard()

The program gets the whole server on its event loop: the ``/ws`` endpoint, the hub with
its projects and Claude runs, and the skill API. The program owns the process's
signals; call :func:`stop_switchboard` (or :meth:`Switchboard.stop`) to shut down.
"""

import asyncio
import contextlib
import dataclasses
import logging
import os
from typing import Any

from switchboard.agents.base import AgentDriver
from switchboard.compose import open_hub, ws_claude_driver
from switchboard.config import Settings, default_data_dir
from switchboard.exceptions import SwitchboardError
from switchboard.hub.confirmation import Confirmation, Decision
from switchboard.hub.hub import Hub
from switchboard.protocol.messages import (
    ConfirmationRequest,
    ProjectInfo,
    SkillEventPublish,
)
from switchboard.protocol.people import TokenInfo
from switchboard.server.runner import SwitchboardServer, bind_socket, build_server, server_url
from switchboard.skill_reporter import ConfirmationAnswer, SkillReporter
from switchboard.token_store import load_or_create_token

log = logging.getLogger(__name__)

EMBEDDED = "embedded"
"""The ``producer`` of skill events published in this process."""


class HubSink:
    """A :class:`~switchboard.skill_reporter.SkillSink` straight into a hub in this process."""

    def __init__(self, hub: Hub, producer: str = EMBEDDED) -> None:
        self.hub = hub
        self.producer = producer

    async def publish(self, message: SkillEventPublish) -> None:
        await self.hub.publish_skill_event(message.project, message.event, self.producer)

    async def confirm(self, message: ConfirmationRequest) -> ConfirmationAnswer:
        outcome: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()

        async def deliver(decision: Decision) -> bool:
            if outcome.done():
                return False
            outcome.set_result(decision)
            return True

        # Opening runs on even if the caller is cancelled meanwhile, so that the
        # question is withdrawn (and its log complete) rather than left half-open.
        asking = asyncio.ensure_future(self.hub.ask_for_skill(message, self.producer, deliver))
        try:
            await asyncio.shield(asking)
            decision = await outcome
        except asyncio.CancelledError:
            await asyncio.shield(self._withdraw(asking))
            raise
        return {"response": decision.response, "remember": decision.remember}

    async def _withdraw(self, asking: "asyncio.Future[Confirmation]") -> None:
        with contextlib.suppress(Exception):  # it could not even be opened: nothing to do
            await self.hub.withdraw_confirmation((await asking).id)


class Switchboard:
    """A server running on this program's event loop. Start with :meth:`start`."""

    def __init__(
        self, settings: Settings, token: str, hub: Hub, server: SwitchboardServer, url: str
    ) -> None:
        self.settings = settings
        self.token = token
        """The server token: full access. Hand producers a scoped one (create_token)."""
        self.hub = hub
        self.url = url
        """``http://host:port``, the port resolved when 0 was asked for."""
        self._server = server
        self._serving: asyncio.Task[None] | None = None
        self._stopping = False
        self._sink = HubSink(hub)

    @classmethod
    async def start(cls, settings: Settings, agents: AgentDriver | None = None) -> "Switchboard":
        """Open the hub (database, recovery of a previous run) and start serving. Its
        projects run on ``agents`` (by default, the Claude Code CLI)."""
        token, _created = load_or_create_token(settings.data_dir, settings.token)
        sock = bind_socket(settings.host, settings.port)
        try:
            hub = await open_hub(settings, agents)
        except BaseException:
            sock.close()
            raise
        server = build_server(settings, token, hub, ws_claude_driver(settings), early_signals=None)
        url = server_url(settings.host, sock.getsockname()[1])
        switchboard = cls(settings, token, hub, server, url)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="switchboard")
        switchboard._serving = serving
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait({ready, serving}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if serving.done():
            serving.result()  # raises what stopped it
            raise SwitchboardError("the server stopped while starting")
        return switchboard

    async def stop(self) -> None:
        """Close every connection (1001), stop the CLIs, close the database."""
        serving = self._serving
        if serving is None:
            return
        if not self._stopping:  # a second begin_shutdown would kill every run at once
            self._stopping = True
            self._server.begin_shutdown()
        await asyncio.shield(serving)
        self._serving = None

    @property
    def running(self) -> bool:
        return self._serving is not None and not self._serving.done()

    def skills(self, project: str) -> SkillReporter:
        """The skill API for ``project`` (id, name or path)."""
        return SkillReporter(self._sink, project)

    async def add_project(
        self, path: str, name: str | None = None, *, exist_ok: bool = False
    ) -> ProjectInfo:
        """Register a project; with ``exist_ok``, a path (or name) already registered
        is returned as it is."""
        if exist_ok:
            known = self.hub.find_project(path)
            if known is not None:
                return self.hub.project_info(known.id)
        return await self.hub.add_project(path, name)

    async def create_token(
        self, name: str, projects: list[str] | None = None
    ) -> tuple[TokenInfo, str]:
        """A ``produce`` token for another process: (its info, its secret)."""
        return await self.hub.people.create_token(name, "produce", projects)


class _Process:
    """The process-wide instance of the helpers below."""

    instance: Switchboard | None = None


def settings_with(**overrides: Any) -> Settings:
    """Settings from the defaults of ``switchboard serve`` and ``overrides``."""
    overrides.setdefault("data_dir", default_data_dir(os.environ))
    return dataclasses.replace(Settings(), **overrides)


async def start_switchboard(settings: Settings | None = None, **overrides: Any) -> Switchboard:
    """Start the process-wide server (``settings``, or defaults with ``overrides`` such
    as ``data_dir=``, ``port=``, ``token=``); an error if one is running."""
    running = _Process.instance
    if running is not None and running.running:
        raise SwitchboardError("Switchboard is already running in this process")
    chosen = settings if settings is not None else settings_with(**overrides)
    _Process.instance = await Switchboard.start(chosen)
    return _Process.instance


def get_switchboard() -> Switchboard:
    """The process-wide server; an error if it was not started."""
    instance = _Process.instance
    if instance is None or not instance.running:
        raise SwitchboardError("Switchboard is not running (call start_switchboard first)")
    return instance


async def stop_switchboard() -> None:
    """Stop the process-wide server, if it runs."""
    instance, _Process.instance = _Process.instance, None
    if instance is not None:
        await instance.stop()
