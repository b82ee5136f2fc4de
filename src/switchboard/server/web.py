"""The web UI (web/, built into ``web_dist``): its page, its files, and its token check.

The page and its files need no token: they hold no secret, and the page asks for the
token itself (from the URL fragment, the browser's storage, or a login form), checks it
with ``POST /api/token/check``, then opens ``/ws`` with it.
"""

import hmac
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from switchboard.server.security import ScopedLookup

WEB_DIST = Path(__file__).resolve().parent / "web_dist"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Switchboard</title>
<p>The web UI is not built. <code>./scripts/serve</code> builds it (it needs Node and npm),
or build it by hand: <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>.
The <a href="/ws-demo.html">demo page</a> and the <code>/ws</code> protocol work without it.</p>
"""
MAX_TOKEN_CHECK_BODY = 4096


def web_routes(
    token: str, people: ScopedLookup | None = None, dist: Path = WEB_DIST
) -> list[BaseRoute]:
    """The page, its files, and the token check (``people``: finds a role token's grant)."""

    async def page(request: Request) -> Response:
        index = dist / "index.html"
        headers = {
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503, headers=headers)
        return HTMLResponse(index.read_text("utf-8"), headers=headers)

    async def check_token(request: Request) -> Response:
        """``{"valid": true, "role": ...}`` when the body's token is the server token or
        a person's (role) token: the ones that open the page's ``/ws``."""
        body = await _read_at_most(request, MAX_TOKEN_CHECK_BODY)
        try:
            given = json.loads(body) if body is not None else None
        except ValueError:
            given = None
        candidate = given.get("token") if isinstance(given, dict) else None
        role = _role_of(candidate, token, people) if isinstance(candidate, str) else None
        answer = {"valid": role is not None, "role": role}
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    async def service_worker(request: Request) -> Response:
        """The UI's service worker (web/public/sw.js): it shows Web Push alerts. Served
        from the root so that it may control the whole page."""
        script = dist / "sw.js"
        if not script.is_file():
            return Response("the web UI is not built", status_code=404)
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return Response(script.read_bytes(), media_type="text/javascript", headers=headers)

    routes: list[BaseRoute] = [
        Route("/", page),
        Route("/api/token/check", check_token, methods=["POST"]),
        Route("/sw.js", service_worker),
    ]
    assets = dist / "assets"
    if assets.is_dir():
        routes.append(Mount("/assets", app=StaticFiles(directory=assets), name="assets"))
    return routes


def _role_of(candidate: str, token: str, people: ScopedLookup | None) -> str | None:
    """The role of a token that may open the page's ``/ws``, if it is one."""
    if hmac.compare_digest(candidate.encode(), token.encode()):
        return "admin"
    grant = people(candidate) if people is not None and candidate else None
    return grant.role if grant is not None and grant.scope == "full" else None


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it is longer than ``limit`` (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return body
