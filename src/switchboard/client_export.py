"""``switchboard export PROJECT [--since N]``: a project's event log as JSON Lines.

The log is read through the running server, which owns the data dir: the command
subscribes with ``since``, writes every replayed ``event`` frame as it arrives, exactly
as the server sent it (one per line, the same object a ``/ws`` client receives), and
stops at ``caught_up``. Frames are taken from the socket one at a time and the socket's
receive queue is small, so the command's memory stays bounded however long the log:
while it writes, TCP flow control holds the server, whose replay reads the next chunk
of the log only when the connection has room.
"""

import json
import re
import sys
from typing import Any, BinaryIO

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidHandshake

from switchboard.client import CLIENT_MAX_MESSAGE_BYTES, RequestError, ws_url
from switchboard.exceptions import ConfigError, SwitchboardError

EVENT_PREFIX = '{"type":"event",'
"""How every ``event`` frame begins (protocol/messages.py builds them so)."""
SEQ = re.compile(r'"seq":(\d+)')
RECEIVE_QUEUE = 8
"""Frames the socket may hold that the command has not taken yet."""
SUBSCRIBE_ID = "export"


class ExportInterrupted(SwitchboardError):
    """The connection closed before the export was complete."""


async def export_log(server: str, token: str, project: str, since: int, out: BinaryIO) -> int:
    """Write the events of ``project`` after ``since`` to ``out``; returns how many.

    If the server no longer keeps all of them (its retention policy deleted the oldest),
    says so on stderr and exports what it keeps."""
    try:
        connection = await websockets.connect(
            ws_url(server, token), max_size=CLIENT_MAX_MESSAGE_BYTES, max_queue=RECEIVE_QUEUE
        )
    except (OSError, InvalidHandshake) as exc:
        raise ConfigError(f"cannot connect to {server}: {exc}") from exc
    last = since
    try:
        async with connection:
            snapshot = await _expect(connection, "connected")
            project_id = _project_id(snapshot, project)
            last = await _subscribe(connection, project, since)
            while True:
                frame = await connection.recv()
                if not isinstance(frame, str):
                    continue
                if frame.startswith(EVENT_PREFIX):
                    if "\n" in frame:  # only whitespace between tokens: keep one line
                        frame = frame.replace("\n", " ")
                    out.write(frame.encode() + b"\n")
                    found = SEQ.search(frame, 0, 200)
                    last = int(found.group(1)) if found else last
                    continue
                message = json.loads(frame)
                if message.get("type") == "caught_up":  # the one subscription's
                    break
                if message.get("type") == "project_removed" and message["project"] == project_id:
                    raise ExportInterrupted(f"{project} was removed during the export")
    except websockets.ConnectionClosed as closed:
        out.flush()
        raise ExportInterrupted(
            f"the connection closed ({closed}) after event {last}; run again with "
            f"--since {last} to export the rest"
        ) from closed
    out.flush()
    return last


def _project_id(snapshot: dict[str, Any], key: str) -> str | None:
    """The id of the project ``key`` names (id, name or path), if the snapshot shows it."""
    for project in snapshot.get("projects") or []:
        if key in (project.get("id"), project.get("name"), project.get("path")):
            return str(project["id"])
    return None


async def _expect(connection: ClientConnection, kind: str) -> dict[str, Any]:
    message = json.loads(await connection.recv())
    if not isinstance(message, dict) or message.get("type") != kind:
        raise SwitchboardError(f"expected a {kind!r} message, got {str(message)[:200]}")
    return message


async def _subscribe(connection: ClientConnection, project: str, since: int) -> int:
    """Subscribe after ``since``, or after the oldest event kept if it is later (said
    on stderr). Returns the since used."""
    while True:
        request = {"type": "subscribe", "id": SUBSCRIBE_ID, "project": project, "since": since}
        await connection.send(json.dumps(request))
        while True:
            reply = json.loads(await connection.recv())
            if reply.get("type") in ("ack", "error") and reply.get("id") == SUBSCRIBE_ID:
                break
        if reply["type"] == "ack":
            return since
        first = reply.get("first_seq")
        if reply["code"] != "history_trimmed" or not isinstance(first, int) or first - 1 <= since:
            raise RequestError(reply["code"], reply["message"])
        print(
            f"switchboard: events {since + 1}-{first - 1} of {project} are no longer kept "
            f"(retention); exporting from {first}",
            file=sys.stderr,
        )
        since = first - 1
