"""Build the ASGI application."""

from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp
from starlette.websockets import WebSocket

from switchboard import __version__
from switchboard.config import Settings
from switchboard.server.lifecycle import SessionTracker
from switchboard.server.security import SecurityMiddleware, SecurityPolicy
from switchboard.server.ws_claude import ClaudeSocketSession


def _static(name: str) -> str:
    return resources.files("switchboard.server").joinpath("static", name).read_text("utf-8")


def create_app(settings: Settings, token: str, tracker: SessionTracker) -> ASGIApp:
    """The Starlette app wrapped in the security middleware."""
    demo_page = _static("ws-demo.html")

    async def healthz(request: Request) -> Response:
        status = "ok" if tracker.accepting else "shutting_down"
        code = 200 if tracker.accepting else 503
        return JSONResponse({"status": status, "version": __version__}, status_code=code)

    async def demo(request: Request) -> Response:
        return HTMLResponse(demo_page, headers={"Cache-Control": "no-store"})

    async def ws_claude(websocket: WebSocket) -> None:
        await ClaudeSocketSession(websocket, settings, tracker).run()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/ws-demo.html", demo),
            WebSocketRoute("/ws/claude", ws_claude),
        ]
    )
    policy = SecurityPolicy(token, settings.host, settings.allowed_hosts, settings.allowed_origins)
    return SecurityMiddleware(app, policy)
