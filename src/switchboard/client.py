"""A Python client for the ``/ws`` protocol.

    async with await SwitchboardClient.connect("http://127.0.0.1:9876", token) as client:
        project = await client.add_project("/path/to/repo")
        await client.subscribe(project["id"], since=0)
        run = await client.prompt(project["id"], "Explain this repository")
        async for message in client.messages():
            ...  # "event", "delta", "caught_up", "project_status", ...

Requests return the server's ``ack`` as a dict, or raise :class:`RequestError` with the
server's error code. Everything the server sends unasked is read from
:meth:`SwitchboardClient.messages` in arrival order.

Messages are read as JavaScript's ``JSON.parse`` reads them: an integer of more digits
than Python's ``int`` takes (4300) is a float (``inf``), and a string may hold a lone
surrogate when the CLI printed one (:func:`switchboard.event_lines.printable` makes such
text safe to print).
"""

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import websockets
from websockets.asyncio.client import ClientConnection

from switchboard.exceptions import SwitchboardError
from switchboard.protocol.json_text import loads

REPLIES = ("ack", "error", "heartbeat_ack")
CLIENT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
"""An event carries a whole CLI line (the server passes lines up to 16 MiB by default)."""


class RequestError(SwitchboardError):
    """The server answered a request with an ``error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class HistoryTrimmed(RequestError):
    """``subscribe`` asked for events the server no longer keeps (its retention policy
    deleted them); ``first_seq`` is the oldest it keeps."""

    def __init__(self, code: str, message: str, first_seq: int) -> None:
        super().__init__(code, message)
        self.first_seq = first_seq


class ConnectionLost(SwitchboardError):
    """The connection closed; ``close_code`` and ``reason`` say how (4008: slow
    consumer)."""

    code = "connection_lost"

    def __init__(self, close_code: int | None, reason: str) -> None:
        super().__init__(f"connection closed ({close_code}: {reason or 'no reason'})")
        self.close_code = close_code
        self.reason = reason


def ws_url(server: str, token: str) -> str:
    """``http://host:port`` (or ``ws://``) → the ``/ws`` URL with the token."""
    base = server.rstrip("/")
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if base.startswith(plain):
            base = secure + base[len(plain) :]
    return f"{base}/ws?token={token}"


class SwitchboardClient:
    def __init__(self, connection: ClientConnection, snapshot: dict[str, Any]) -> None:
        self.connection = connection
        self.snapshot = snapshot
        """The ``connected`` message: versions, projects, running runs, limits."""
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._results: dict[str, asyncio.Future[dict[str, Any]]] = {}
        """confirmation_result messages by confirmation id (kept until awaited)."""
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._closed: ConnectionLost | None = None
        self._reader = asyncio.create_task(self._read(), name="switchboard-client")

    @classmethod
    async def connect(cls, server: str, token: str, **options: Any) -> Self:
        """Connect and wait for the ``connected`` snapshot. ``options`` go to
        ``websockets.connect`` (e.g. ``max_size``)."""
        options.setdefault("max_size", CLIENT_MAX_MESSAGE_BYTES)
        connection = await websockets.connect(ws_url(server, token), **options)
        first = loads(await connection.recv())
        if first.get("type") != "connected":
            await connection.close()
            raise SwitchboardError(f"expected a 'connected' message, got {first!r}")
        return cls(connection, first)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.connection.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    # -- requests -----------------------------------------------------------------------

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send a request and wait for its reply; raises :class:`RequestError`."""
        if self._closed is not None:
            raise self._closed
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        body = {
            "type": kind,
            "id": request_id,
            **{k: v for k, v in fields.items() if v is not None},
        }
        try:
            await self.connection.send(json.dumps(body))
            reply = await future
        finally:
            self._pending.pop(request_id, None)
        if reply["type"] == "error":
            if reply["code"] == "history_trimmed":
                raise HistoryTrimmed(reply["code"], reply["message"], int(reply["first_seq"]))
            raise RequestError(reply["code"], reply["message"])
        return reply

    async def add_project(
        self, path: str, name: str | None = None, agent: str | None = None
    ) -> dict[str, Any]:
        """Register a directory: of the server's machine, or (``agent``) of that
        remote agent's."""
        fields: dict[str, Any] = {"path": path, "name": name}
        if agent is not None:
            fields["agent"] = agent
        return dict((await self.request("project.add", **fields))["project"])

    async def projects(self) -> list[dict[str, Any]]:
        return list((await self.request("project.list"))["projects"])

    async def sessions(self, project: str) -> list[dict[str, Any]]:
        """The Claude sessions the CLI stored for the project's directory, newest first."""
        return list((await self.request("session.list", project=project))["sessions"])

    async def use_session(self, project: str, session: str) -> dict[str, Any]:
        """Make a stored session the project's; returns the project."""
        ack = await self.request("session.use", project=project, session=session)
        return dict(ack["project"])

    async def remove_project(self, project: str) -> dict[str, Any]:
        return dict((await self.request("project.remove", project=project))["project"])

    async def subscribe(self, project: str, since: int = 0) -> int:
        """Subscribe; returns the project's head seq at that moment. Raises
        :class:`HistoryTrimmed` if events after ``since`` were deleted (retention)."""
        return int((await self.request("subscribe", project=project, since=since))["head"])

    async def resume(self, project: str, since: int) -> int:
        """Subscribe after ``since``, or, if the server no longer keeps all of that
        history, from the oldest event it keeps. Returns the ``since`` used: when it is
        greater than the one asked for, the events in between are gone for good (show
        that, and re-sync what was built from them)."""
        while True:
            try:
                await self.subscribe(project, since=since)
            except HistoryTrimmed as trimmed:  # again if trimmed further meanwhile
                if trimmed.first_seq - 1 <= since:
                    raise
                since = trimmed.first_seq - 1
                continue
            return since

    async def set_retention(
        self, project: str, max_age_seconds: float | None = None, max_bytes: int | None = None
    ) -> dict[str, Any]:
        """Set the project's own retention policy (None: the server's; 0: no limit);
        returns the project."""
        ack = await self.request(
            "project.retention",
            project=project,
            max_age_seconds=max_age_seconds,
            max_bytes=max_bytes,
        )
        return dict(ack["project"])

    async def set_budget(
        self, project: str, daily_usd: float | None = None, run_usd: float | None = None
    ) -> dict[str, Any]:
        """Set the project's own budgets in USD (None: the server's default); returns
        the project."""
        ack = await self.request(
            "project.budget", project=project, daily_usd=daily_usd, run_usd=run_usd
        )
        return dict(ack["project"])

    async def unsubscribe(self, project: str) -> None:
        await self.request("unsubscribe", project=project)

    async def prompt(self, project: str, text: str, **options: Any) -> dict[str, Any]:
        """Queue a prompt; returns the new run (``options``: model, permission_mode)."""
        chosen = {k: v for k, v in options.items() if v is not None}
        return dict(
            (await self.request("prompt", project=project, text=text, options=chosen))["run"]
        )

    async def cancel(self, project: str, run: str | None = None) -> dict[str, Any]:
        return dict((await self.request("cancel", project=project, run=run))["run"])

    async def new_session(self, project: str) -> dict[str, Any]:
        return dict((await self.request("session.new", project=project))["project"])

    async def publish_diagnostics(
        self, project: str, path: str, diagnostics: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Replace the diagnostics of one file of the project (LSP-shaped; an empty
        list clears them); returns the file's diagnostics as stored."""
        ack = await self.request(
            "diagnostics.publish", project=project, path=path, diagnostics=diagnostics
        )
        return dict(ack["diagnostics"][0])

    async def set_back_channel(self, project: str, enabled: bool) -> dict[str, Any]:
        """Turn the project's back-channel on or off; returns the project."""
        ack = await self.request("project.back_channel", project=project, enabled=enabled)
        return dict(ack["project"])

    async def answer(self, confirmation_id: str, response: str, **fields: Any) -> dict[str, Any]:
        """Answer a confirmation (``fields``: message, updated_input, answers, remember);
        returns the ack."""
        return await self.request(
            "confirmation_response", confirmation_id=confirmation_id, response=response, **fields
        )

    async def heartbeat(self) -> float:
        return float((await self.request("heartbeat"))["server_time"])

    async def confirmation_result(self, confirmation_id: str) -> dict[str, Any]:
        """Wait for the ``confirmation_result`` of a ``confirmation.request`` this
        connection sent (it may already have arrived)."""
        future = self._result_future(confirmation_id)
        try:
            return await future
        finally:
            self._results.pop(confirmation_id, None)

    def _result_future(self, confirmation_id: str) -> asyncio.Future[dict[str, Any]]:
        future = self._results.get(confirmation_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            if self._closed is not None:
                future.set_exception(self._closed)
            self._results[confirmation_id] = future
        return future

    # -- unsolicited messages ----------------------------------------------------------------

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Everything the server sends unasked; ends with :class:`ConnectionLost`."""
        while (message := await self._inbox.get()) is not None:
            yield message
        assert self._closed is not None
        raise self._closed

    async def _read(self) -> None:
        try:
            async for frame in self.connection:
                message = loads(frame)  # a CLI line may hold an integer of 5000 digits
                if message.get("type") == "confirmation_result":
                    result = self._result_future(str(message.get("confirmation_id")))
                    if not result.done():
                        result.set_result(message)
                    continue
                future = (
                    self._pending.get(message.get("id")) if message.get("type") in REPLIES else None
                )
                if future is not None and not future.done():
                    future.set_result(message)
                else:
                    self._inbox.put_nowait(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed = ConnectionLost(
                self.connection.close_code, self.connection.close_reason or ""
            )
            for future in (*self._pending.values(), *self._results.values()):
                if not future.done():
                    future.set_exception(self._closed)
            self._inbox.put_nowait(None)
