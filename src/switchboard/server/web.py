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


def web_routes(token: str, dist: Path = WEB_DIST) -> list[BaseRoute]:
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
        """``{"valid": true}`` when the body's token is the server token."""
        body = await _read_at_most(request, MAX_TOKEN_CHECK_BODY)
        try:
            given = json.loads(body) if body is not None else None
        except ValueError:
            given = None
        candidate = given.get("token") if isinstance(given, dict) else None
        valid = isinstance(candidate, str) and hmac.compare_digest(
            candidate.encode(), token.encode()
        )
        return JSONResponse({"valid": valid}, headers={"Cache-Control": "no-store"})

    routes: list[BaseRoute] = [
        Route("/", page),
        Route("/api/token/check", check_token, methods=["POST"]),
    ]
    assets = dist / "assets"
    if assets.is_dir():
        routes.append(Mount("/assets", app=StaticFiles(directory=assets), name="assets"))
    return routes


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
