"""The API's routes: the table of operations, the event stream, the OpenAPI document,
and JSON answers for paths and methods under ``/api`` that have no endpoint."""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route

from switchboard.server.api import openapi
from switchboard.server.api.context import ApiContext
from switchboard.server.api.errors import error_response
from switchboard.server.api.events import EventsEndpoint
from switchboard.server.api.operations import OPERATIONS, operation_endpoint

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def api_routes(context: ApiContext) -> list[BaseRoute]:
    """Every route under ``/api`` (but ``/api/token/check``, the web UI's)."""
    routes: list[Route] = [
        Route(op.path, operation_endpoint(op, context), methods=[op.method]) for op in OPERATIONS
    ]
    routes.append(Route("/api/projects/{project}/events", EventsEndpoint(context), methods=["GET"]))

    async def document(request: Request) -> Response:
        return Response(
            openapi.render(), media_type="application/json", headers={"Cache-Control": "no-cache"}
        )

    routes.append(Route("/api/openapi.json", document, methods=["GET"]))

    async def elsewhere(request: Request) -> Response:
        """404, or 405 naming the methods the path takes."""
        allowed: set[str] = set()
        for route in routes:
            match, _ = route.matches({**request.scope, "method": "GET", "type": "http"})
            if match is not Match.NONE and route.methods:
                allowed |= route.methods
        if allowed:
            return error_response(
                "method_not_allowed",
                f"{request.method} is not an endpoint of {request.url.path}",
                allow=", ".join(sorted(allowed)),
            )
        return error_response(
            "no_route", f"no endpoint at {request.url.path} (see /api/openapi.json)"
        )

    return [*routes, Route("/api/{rest:path}", elsewhere, methods=METHODS)]
