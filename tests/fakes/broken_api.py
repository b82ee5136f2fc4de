#!/usr/bin/env python3
"""An HTTP API with a bug, for checking that the Schemathesis test catches one: its
OpenAPI document offers ``GET /api/items/{item}``, which answers 500 for an item whose
name is longer than three characters (and 404 for the others). Serves on a free
loopback port and prints it; stops on SIGTERM."""

import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "broken", "version": "1"},
    "paths": {
        "/api/items/{item}": {
            "get": {
                "operationId": "getItem",
                "parameters": [
                    {"name": "item", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"404": {"description": "No such item"}},
            }
        }
    },
}


async def document(request: Request) -> Response:
    return JSONResponse(DOCUMENT)


async def item(request: Request) -> Response:
    if len(request.path_params["item"]) > 3:
        raise RuntimeError("the bug")  # Starlette answers 500
    return JSONResponse({"error": "no such item"}, status_code=404)


def main() -> None:
    app = Starlette(routes=[Route("/api/openapi.json", document), Route("/api/items/{item}", item)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until uvicorn serves
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="critical")).run(sockets=[sock])


if __name__ == "__main__":
    main()
