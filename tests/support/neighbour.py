"""A well-behaved second client, to show that bad input disturbed nobody else.

A :class:`Neighbour` is a plain ``/ws`` connection subscribed to a project. Each
:meth:`Neighbour.check` sends a heartbeat and publishes a skill event to its project,
and expects the ``heartbeat_ack``, the ``ack`` and the event, whose ``seq`` follows the
last one it received: every event of the project reaches it, without a gap. It may
:meth:`~Neighbour.follow` other projects too; their events must come without a gap as
well.
"""

import asyncio
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websockets

from switchboard.protocol.json_text import loads
from tests.support.server import RunningServer

CHECK_SECONDS = 30.0


class Neighbour:
    def __init__(self, ws: Any, project: str) -> None:
        self.ws = ws
        self.project = project
        self.last_seqs: dict[str, int] = {}
        """The last seq received of each project followed."""
        self._ids = itertools.count(1)

    @property
    def last_seq(self) -> int:
        return self.last_seqs.get(self.project, 0)

    @classmethod
    async def join(cls, server: RunningServer, directory: Path) -> "Neighbour":
        """Connect, register ``directory`` as a project (or find it) and follow it."""
        ws = await websockets.connect(
            f"{server.ws_url}/ws?token={server.token}", max_size=None, max_queue=None
        )  # reads (and answers pings) whatever piles up between two checks
        neighbour = cls(ws, "")
        async with asyncio.timeout(CHECK_SECONDS):
            assert json.loads(await ws.recv())["type"] == "connected"
            added = await neighbour.request({"type": "project.add", "path": str(directory)})
            if added["type"] == "error":
                assert added["code"] == "duplicate", added
                listed = await neighbour.request({"type": "project.list"})
                [project] = [p for p in listed["projects"] if p["path"] == str(directory)]
            else:
                project = added["project"]
            neighbour.project = project["id"]
            await neighbour.follow(neighbour.project)
        return neighbour

    async def follow(self, project_id: str) -> None:
        """Subscribe to another project from its first event."""
        async with asyncio.timeout(CHECK_SECONDS):
            self.last_seqs[project_id] = 0
            ack = await self.request({"type": "subscribe", "project": project_id})
            assert ack["type"] == "ack", ack
            await self._read_until(
                lambda m: m["type"] == "caught_up" and m["project"] == project_id
            )

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send a request; its reply (events that come first are taken in)."""
        request_id = f"n{next(self._ids)}"
        await self.ws.send(json.dumps({**message, "id": request_id}))
        return await self._read_until(
            lambda m: m["type"] in ("ack", "error", "heartbeat_ack") and m["id"] == request_id
        )

    async def check(self) -> None:
        """Heartbeat answered; a new event of its project arrives, right after the last."""
        async with asyncio.timeout(CHECK_SECONDS):
            beat = await self.request({"type": "heartbeat"})
            assert beat["type"] == "heartbeat_ack", beat
            expected = self.last_seq + 1
            event = {"type": "intent_classified", "intent": f"check {expected}"}
            published = await self.request(
                {"type": "skill.event", "project": self.project, "event": event}
            )
            assert published["type"] == "ack", published
            if self.last_seq < expected:  # the event may come before the ack, or after
                await self._read_until(lambda _message: self.last_seq >= expected)

    async def close(self) -> None:
        await self.ws.close()

    async def _read_until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            message = loads(await self.ws.recv())  # a CLI line may hold 5000 digits
            project = message.get("project")
            if message["type"] == "event" and project in self.last_seqs:
                last = self.last_seqs[project]
                assert message["seq"] == last + 1, (project, last, message["seq"])
                self.last_seqs[project] = message["seq"]
            if wanted(message):
                return dict(message)
