"""The HTTP API's endpoints, as a table: each one is a ``/ws`` request.

An :class:`Operation` says which ``/ws`` request model an endpoint builds, which of its
fields come from the path, the query and the JSON body, and which part of the ``ack``
is the response. :func:`operation_endpoint` serves any of them; the OpenAPI document
(:mod:`.openapi`) is made from the same table. A new endpoint is a new row (and, for
a new kind of request, its ``/ws`` handler).
"""

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from switchboard.protocol.confirmation_messages import ConfirmationInfo
from switchboard.protocol.messages import (
    Cancel,
    ConfirmationResponse,
    ProjectAdd,
    ProjectInfo,
    ProjectList,
    ProjectRemove,
    Prompt,
    RunInfo,
    RunList,
)
from switchboard.protocol.model_base import Model
from switchboard.protocol.people import AuditEntry, AuditList
from switchboard.server.api.bodies import build, json_object, only_fields, read_body
from switchboard.server.api.context import ApiContext
from switchboard.server.api.errors import ApiRefusal, error_response

log = logging.getLogger(__name__)

COMMON_ERRORS = (400, 401, 403, 429, 503)
"""What any endpoint may answer: a bad request, no token, a role that may not, too many
requests, shutting down."""


class ProjectsReply(Model):
    """The projects."""

    projects: list[ProjectInfo]


class ProjectReply(Model):
    """The project (as it was, for a removal)."""

    project: ProjectInfo


class RunReply(Model):
    """The run."""

    run: RunInfo


class RunsReply(Model):
    """A page of runs, newest first."""

    runs: list[RunInfo]


class AuditReply(Model):
    """A page of the audit list, newest first."""

    audit: list[AuditEntry]


class ConfirmationReply(Model):
    """The confirmation, answered."""

    confirmation: ConfirmationInfo


@dataclass(frozen=True)
class Operation:
    """One endpoint: ``method`` ``path`` becomes a ``request``; its ack's fields named
    by ``reply`` are the response, with ``status``."""

    method: str
    path: str
    operation_id: str
    summary: str
    request: type[BaseModel]
    reply: type[Model]
    body: tuple[str, ...] = ()
    """The request's fields the JSON body gives."""
    query: tuple[str, ...] = ()
    """The request's fields the query string gives."""
    status: int = 200
    errors: tuple[int, ...] = ()
    """The statuses of its refusals, besides :data:`COMMON_ERRORS`."""
    description: str = ""
    links: tuple[tuple[str, dict[str, str]], ...] = ()
    """OpenAPI links: the operations whose parameters its response supplies (operation
    id, parameter name → runtime expression)."""

    @property
    def kind(self) -> str:
        """The ``/ws`` request type."""
        [kind] = get_args(self.request.model_fields["type"].annotation)
        return str(kind)

    @property
    def path_fields(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/projects",
        "listProjects",
        "List the projects",
        ProjectList,
        ProjectsReply,
    ),
    Operation(
        "POST",
        "/api/projects",
        "addProject",
        "Add a project (a directory on the server's machine, or on a remote agent)",
        ProjectAdd,
        ProjectReply,
        body=("path", "name", "agent"),
        status=201,
        errors=(404, 409),
        links=tuple(
            (target, {"project": "$response.body#/project/id"})
            for target in ("submitPrompt", "listRuns", "cancelRunning", "removeProject")
        ),
    ),
    Operation(
        "DELETE",
        "/api/projects/{project}",
        "removeProject",
        "Remove a project (its runs are stopped, its history deleted)",
        ProjectRemove,
        ProjectReply,
        errors=(404,),
    ),
    Operation(
        "POST",
        "/api/projects/{project}/prompts",
        "submitPrompt",
        "Send a prompt: it is queued as a run of the project",
        Prompt,
        RunReply,
        body=("text", "options"),
        status=202,
        errors=(402, 404, 413, 415),
        description="The run is queued; follow it with the project's events.",
        links=(
            (
                "cancelRun",
                {"project": "$response.body#/run/project", "run": "$response.body#/run/id"},
            ),
        ),
    ),
    Operation(
        "GET",
        "/api/projects/{project}/runs",
        "listRuns",
        "List the project's runs, newest first",
        RunList,
        RunsReply,
        query=("limit", "before"),
        errors=(404,),
        description="A page holds at most `limit` runs, and no more than fit in "
        "--max-message-bytes; page back with `before` = the last run's id until a page "
        "comes back empty.",
    ),
    Operation(
        "POST",
        "/api/projects/{project}/cancel",
        "cancelRunning",
        "Cancel the project's running run",
        Cancel,
        RunReply,
        status=202,
        errors=(404, 409),
        description="The run ends `cancelled` once its turn has stopped.",
    ),
    Operation(
        "POST",
        "/api/projects/{project}/runs/{run}/cancel",
        "cancelRun",
        "Cancel a queued or running run",
        Cancel,
        RunReply,
        status=202,
        errors=(404, 409),
        description="A queued run is cancelled at once; a running one ends `cancelled` "
        "once its turn has stopped.",
    ),
    Operation(
        "POST",
        "/api/confirmations/{confirmation_id}/answer",
        "answerConfirmation",
        "Answer a confirmation (a permission request, a question, a plan, an approval)",
        ConfirmationResponse,
        ConfirmationReply,
        body=("response", "remember", "message", "updated_input", "answers"),
        errors=(404, 409, 413, 415),
        description="The first valid answer wins; a later one gets 409 already_answered.",
    ),
    Operation(
        "GET",
        "/api/audit",
        "listAudit",
        "Who prompted, answered or changed what, newest first (admin only)",
        AuditList,
        AuditReply,
        query=("project", "before", "limit"),
        errors=(404,),
        description="Page back with `before` (the oldest id of the page) until a page is empty.",
    ),
)
"""Every endpoint that stands for a ``/ws`` request (the event stream and the OpenAPI
document are served apart)."""


def operation_endpoint(
    operation: Operation, context: ApiContext
) -> Callable[[Request], Awaitable[Response]]:
    """Serve ``operation``: admit, build the request, handle it, answer with the ack."""
    takes_body = operation.method != "GET"

    async def endpoint(request: Request) -> Response:
        try:
            grant = context.admit(request)
            fields: dict[str, Any] = {}
            if takes_body:
                body = json_object(
                    request, await read_body(request, context.settings.max_message_bytes)
                )
                only_fields(body, operation.body)
                fields.update(body)
            fields.update(
                {n: request.query_params[n] for n in operation.query if n in request.query_params}
            )
            fields.update({name: request.path_params[name] for name in operation.path_fields})
            message = build(operation.kind, fields)
            ack = await context.perform(grant, message)
            reply = operation.reply.model_validate(
                {name: getattr(ack, name) for name in operation.reply.model_fields}
            )
        except ApiRefusal as refusal:
            return refusal.response()
        except Exception as exc:
            log.exception("%s %s failed", operation.method, operation.path)
            return error_response("internal", f"the server failed to handle it: {exc!r}")
        return Response(
            reply.model_dump_json(),
            status_code=operation.status,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    return endpoint
