"""The OpenAPI 3.1 document of the HTTP API (served at ``/api/openapi.json``, committed
as docs/openapi.json), made from the table of operations and the ``/ws`` models::

    python -m switchboard.server.api.openapi docs/openapi.json

A test fails when the committed file, the served one and this drift apart.
"""

import functools
import json
import sys
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from switchboard.protocol.messages import PROTOCOL_VERSION, Subscribe
from switchboard.protocol.schema import write_document
from switchboard.server.api.errors import ApiError
from switchboard.server.api.operations import COMMON_ERRORS, OPERATIONS, Operation

REF = "#/components/schemas/{model}"
REASONS = {
    400: "The request is malformed or not valid (code bad_message, bad_json, bad_path, …)",
    401: "No token, or a wrong one (code unauthorized)",
    402: "The project's budget for the day is spent (code budget_exceeded)",
    403: "The token may not do this (code forbidden)",
    404: "No such project, run or confirmation (code unknown_project, …)",
    409: "It clashes with how things stand (code already_answered, nothing_to_cancel, …)",
    410: "The events after `since` were deleted by retention (code history_trimmed)",
    413: "The body is over --max-message-bytes (code too_large)",
    415: "The body is not application/json (code unsupported_media_type)",
    429: "Too many requests, or a limit reached (code rate_limited, queue_full, …)",
    503: "The server is shutting down (code shutting_down), or an agent is offline",
}
EVENTS_DESCRIPTION = """\
The project's events as Server-Sent Events: first an `ack` message (the subscription's
ack: `head`, pending confirmations, running skills, tasks, diagnostics), then every
stored event after `since` as an unnamed message with `id: <seq>` and the `/ws` `event`
frame as its data, then `caught_up`, then live events as they happen (and live-only
`delta` and `activity` messages, which carry no id). Resume with `Last-Event-ID` (or
`?since=`): nothing is missed and nothing comes twice. A comment line is sent every
`--ping-interval` seconds while nothing happens. The server ends the stream with a
`close` message (`code` 1001 shutting down, 4008 slow consumer, 4003 token revoked) or
`project_removed`. See docs/http-api.md."""


def _first_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without its ``null`` branch (a parameter is absent or a value)."""
    branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        rest = {k: v for k, v in schema.items() if k not in {"anyOf", "default"}}
        return {**branches[0], **rest}
    return {k: v for k, v in schema.items() if k != "default"}


def _error_responses(statuses: tuple[int, ...]) -> dict[str, Any]:
    error = {"$ref": REF.format(model="ApiError")}
    return {
        str(status): {
            "description": REASONS[status],
            "content": {"application/json": {"schema": error}},
        }
        for status in sorted(set(statuses))
    }


class _Schemas:
    """The models' JSON Schemas, made together (so shared models are defined once)."""

    def __init__(self) -> None:
        Mode = Literal["validation", "serialization"]
        requests = {op.request for op in OPERATIONS} | {Subscribe}
        replies = {op.reply for op in OPERATIONS} | {ApiError}
        keys: list[tuple[type[BaseModel], Mode]] = [
            *((m, "validation") for m in sorted(requests, key=lambda m: m.__name__)),
            *((m, "serialization") for m in sorted(replies, key=lambda m: m.__name__)),
        ]
        refs, top = models_json_schema(keys, ref_template=REF)
        self.components: dict[str, Any] = top.get("$defs", {})
        self._refs = {model: ref for (model, _mode), ref in refs.items()}
        # the request models stay out: each endpoint takes a part of one
        self._requests = {model: self._take(model) for model in requests}

    def _take(self, model: type[BaseModel]) -> dict[str, Any]:
        name = self._refs[model]["$ref"].rsplit("/", 1)[1]
        return dict(self.components.pop(name))

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        return self._refs[model]

    def field(self, model: type[BaseModel], name: str) -> dict[str, Any]:
        return _first_schema(self._requests[model]["properties"][name])

    def required(self, model: type[BaseModel]) -> set[str]:
        return set(self._requests[model].get("required", []))


def _parameter(schemas: _Schemas, model: type[BaseModel], name: str, where: str) -> dict[str, Any]:
    schema = schemas.field(model, name)
    described = {"description": schema.pop("description")} if "description" in schema else {}
    if name == "project" and where == "path":  # a path would not fit in one segment
        described = {"description": "The project's id or name."}
        schema["pattern"] = "^[^/]+$"
    required = where == "path" or name in schemas.required(model)
    return {"name": name, "in": where, "required": required, "schema": schema, **described}


def _links(op: Operation) -> dict[str, Any]:
    if not op.links:
        return {}
    return {
        "links": {
            target: {"operationId": target, "parameters": parameters}
            for target, parameters in op.links
        }
    }


def _operation(schemas: _Schemas, op: Operation) -> dict[str, Any]:
    model = op.request
    parameters = [_parameter(schemas, model, name, "path") for name in op.path_fields]
    parameters += [_parameter(schemas, model, name, "query") for name in op.query]
    entry: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": (op.description + "\n\n" if op.description else "")
        + f"The `/ws` request `{op.kind}`, with its checks and its role.",
        "parameters": parameters,
        "responses": {
            str(op.status): {
                "description": (op.reply.__doc__ or "Done").strip(),
                "content": {"application/json": {"schema": schemas.ref(op.reply)}},
                **_links(op),
            },
            **_error_responses(COMMON_ERRORS + op.errors),
        },
    }
    if op.body:
        required = sorted(schemas.required(model) & set(op.body))
        body = {
            "type": "object",
            "properties": {name: schemas.field(model, name) for name in op.body},
            "additionalProperties": False,
            **({"required": required} if required else {}),
        }
        entry["requestBody"] = {
            "required": bool(required),
            "content": {"application/json": {"schema": body}},
        }
    return entry


def _events(schemas: _Schemas) -> dict[str, Any]:
    since = _parameter(schemas, Subscribe, "since", "query")
    since["description"] = "Send the stored events after this seq (Last-Event-ID wins)."
    last_event_id = {
        "name": "Last-Event-ID",
        "in": "header",
        "required": False,
        "description": "The seq of the last event received (an EventSource sends it).",
        "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
    }
    return {
        "operationId": "streamEvents",
        "summary": "Follow the project's events (Server-Sent Events), from a seq on",
        "description": EVENTS_DESCRIPTION,
        "parameters": [_parameter(schemas, Subscribe, "project", "path"), since, last_event_id],
        "responses": {
            "200": {
                "description": "The event stream; it ends only when the client or the server "
                "closes it",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            **_error_responses((*COMMON_ERRORS, 404, 410)),
        },
    }


def document() -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(schemas, op)
    paths["/api/projects/{project}/events"] = {"get": _events(schemas)}
    paths["/api/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_error_responses((401, 429)),
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard HTTP API",
            "version": str(PROTOCOL_VERSION),
            "description": "Projects, prompts, runs, confirmations and events over HTTP: "
            "each endpoint is a /ws request with the same checks (docs/http-api.md).",
        },
        "security": [{"bearer": []}, {"query": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "query": {"type": "apiKey", "in": "query", "name": "token"},
            },
        },
    }


@functools.cache
def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.exit(write_document(sys.argv[1:], "switchboard.server.api.openapi", render))
