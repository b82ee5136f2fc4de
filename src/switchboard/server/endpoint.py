"""What the hub's WebSocket endpoints (``/ws``, ``/ws/agent``) share: the parts they
serve with, and how they close a connection without hanging on a peer that stopped
reading."""

import asyncio
import contextlib

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from switchboard.config import Settings
from switchboard.hub.hub import Hub
from switchboard.protocol.close_codes import CloseCode, clip_reason
from switchboard.server.lifecycle import ConnectionTracker


class HubSocketEndpoint:
    """An ASGI app, mounted at one path, whose connections work with the hub."""

    def __init__(self, hub: Hub, settings: Settings, tracker: ConnectionTracker) -> None:
        self.hub = hub
        self.settings = settings
        self.tracker = tracker


async def close_socket(websocket: WebSocket, code: CloseCode, reason: str, seconds: float) -> None:
    """Close with ``code``, waiting at most ``seconds`` for the closing frame to go."""
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError, TimeoutError):
        async with asyncio.timeout(seconds):
            await websocket.close(int(code), clip_reason(reason))
