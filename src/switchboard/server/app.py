"""Build the ASGI application."""

from collections.abc import Callable
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard import __version__
from switchboard.agents.base import AgentDriver
from switchboard.config import Settings
from switchboard.hub.hub import Hub
from switchboard.server.api.context import ApiContext
from switchboard.server.api.routes import api_routes
from switchboard.server.connections import ConnectionLimits
from switchboard.server.hub_requests import serve_forwarded
from switchboard.server.lifecycle import ConnectionTracker
from switchboard.server.metrics import metrics_endpoint
from switchboard.server.roles import ROLES
from switchboard.server.security import (
    AGENT_PATH,
    METRICS_PATH,
    Grant,
    ScopedLookup,
    SecurityMiddleware,
    SecurityPolicy,
)
from switchboard.server.web import web_routes
from switchboard.server.ws_agent import AgentEndpoint
from switchboard.server.ws_claude import ClaudeEndpoint
from switchboard.server.ws_hub import HubEndpoint


def _static(name: str) -> str:
    return resources.files("switchboard.server").joinpath("static", name).read_text("utf-8")


class WebSocketShortcut:
    """Send some WebSocket paths straight to their endpoint, past Starlette's router.

    Starlette wraps ``send`` in an exception-handling closure for every frame; on a
    streaming endpoint that is a few percent of the server's CPU. Everything else,
    unknown WebSocket paths included, goes to the Starlette app.
    """

    def __init__(self, app: ASGIApp, endpoints: dict[str, ASGIApp]) -> None:
        self.app = app
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "websocket" else None
        await (endpoint or self.app)(scope, receive, send)


def create_app(
    settings: Settings,
    token: str,
    tracker: ConnectionTracker,
    hub: Hub,
    *,
    ws_claude_agents: AgentDriver,
    limits: ConnectionLimits | None = None,
) -> ASGIApp:
    """The Starlette app wrapped in the security middleware (which tells ``limits`` of
    each connection that presents a valid token)."""
    demo_page = _static("ws-demo.html")

    async def forwarded(body: dict[str, Any]) -> dict[str, Any]:
        return await serve_forwarded(hub, settings, body)

    hub.cluster.serve_forwarded(forwarded)  # on a cluster: what other nodes pass to this one

    async def healthz(request: Request) -> Response:
        status = "ok" if tracker.accepting else "shutting_down"
        code = 200 if tracker.accepting else 503
        return JSONResponse({"status": status, "version": __version__}, status_code=code)

    async def readyz(request: Request) -> Response:
        """Ready to serve: the database reachable and current, its writes going through."""
        reasons = await hub.readiness()
        if reasons:
            return JSONResponse({"status": "not_ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready", "version": __version__})

    async def demo(request: Request) -> Response:
        return HTMLResponse(demo_page, headers={"Cache-Control": "no-store"})

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(METRICS_PATH, metrics_endpoint(hub, tracker, limits)),
            Route("/ws-demo.html", demo),
            *web_routes(token, hub_grant(hub)),
            *api_routes(ApiContext(hub, settings, tracker)),
        ]
    )
    endpoints: dict[str, ASGIApp] = {
        "/ws/claude": ClaudeEndpoint(settings, tracker, ws_claude_agents, hub.processes),
        "/ws": HubEndpoint(hub, settings, tracker),
        AGENT_PATH: AgentEndpoint(hub, settings, tracker),
    }
    routed = WebSocketShortcut(app, endpoints)
    policy = SecurityPolicy(
        token,
        settings.host,
        settings.allowed_hosts,
        settings.allowed_origins,
        hub_grant(hub),
        metrics_token=settings.metrics_token,
    )
    return SecurityMiddleware(
        routed, policy, on_token=None if limits is None else _authenticate(limits)
    )


def _authenticate(limits: ConnectionLimits) -> Callable[[Scope], None]:
    def authenticated(scope: Scope) -> None:
        limits.authenticate(scope.get("client"))

    return authenticated


def hub_grant(hub: Hub) -> ScopedLookup:
    """Look scoped tokens up in the hub's token store."""

    def lookup(secret: str) -> Grant | None:
        token = hub.people.find_token(secret)
        if token is None:
            return None
        if token.scope == "agent":
            return Grant("agent", token.name, token.id)
        if token.scope in ROLES:
            return Grant("full", token.name, token.id, role=token.scope)
        return Grant("produce", token.name, token.id, token.projects)

    return lookup
