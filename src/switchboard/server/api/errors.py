"""How a refused HTTP API request reads: the ``/ws`` error's ``code`` and ``message``,
under an HTTP status chosen by the code (the table is in docs/http-api.md).

Every ``error.code`` of the ``/ws`` protocol has a status here (a test checks that none
is missing); the few codes only HTTP has are :data:`HttpOnlyCode`.
"""

from typing import Literal

from pydantic import Field
from starlette.responses import JSONResponse

from switchboard.protocol.messages import ErrorCode
from switchboard.protocol.model_base import Model

HttpOnlyCode = Literal[
    "unauthorized",
    "host_not_allowed",
    "no_route",
    "method_not_allowed",
    "too_large",
    "unsupported_media_type",
]
"""Refusals that only HTTP has: no or a wrong token (401, from the security middleware),
a Host that is not allowed (400, the same), no endpoint at that path (404) or not for
that method (405), a body over ``--max-message-bytes`` (413), a body that is not JSON
(415)."""

STATUS: dict[str, int] = {
    # the request itself is wrong
    "bad_json": 400,
    "bad_message": 400,
    "unknown_type": 400,
    "bad_path": 400,
    "not_found": 400,  # project.add: the *directory* does not exist
    "not_a_directory": 400,
    "access_denied": 400,
    "system_directory": 400,
    "outside_roots": 400,
    "name_invalid": 400,
    "permission_mode_not_allowed": 400,
    "since_out_of_range": 400,
    "invalid_option": 400,
    "not_subscribed": 400,
    "host_not_allowed": 400,
    "unauthorized": 401,
    "endpoint_not_allowed": 400,  # push.subscribe: a push endpoint the server will not call
    "forbidden": 403,
    # what it names is not there
    "unknown_project": 404,
    "unknown_run": 404,
    "unknown_confirmation": 404,
    "unknown_rule": 404,
    "unknown_token": 404,
    "unknown_session": 404,
    "unknown_agent": 404,
    "no_route": 404,
    "method_not_allowed": 405,
    # it clashes with how things stand
    "duplicate": 409,
    "nested": 409,
    "contains": 409,
    "name_taken": 409,
    "busy": 409,
    "already_answered": 409,
    "nothing_to_cancel": 409,
    "history_trimmed": 410,
    "too_large": 413,
    "unsupported_media_type": 415,
    # too much, for now
    "rate_limited": 429,
    "queue_full": 429,
    "too_many_pending": 429,
    "limit_reached": 429,
    # spent
    "budget_exceeded": 402,  # the day's budget: trying again soon will not help
    # the server
    "internal": 500,
    "shutting_down": 503,
    "agent_offline": 503,
    # a cluster's node: the project changes hands, or its owner does not answer
    "not_owner": 503,
    "node_unavailable": 503,
}
"""The HTTP status of each error code (400 for a code missing here)."""

RETRY_AFTER = {429: "1", 503: "5"}
"""Seconds a client should wait before it tries again, as the ``Retry-After`` header."""


class ApiError(Model):
    """The body of every refusal (a model for the OpenAPI document): the same ``type``,
    ``code`` and ``message`` as a ``/ws`` ``error`` (``first_seq``: ``history_trimmed``)."""

    type: Literal["error"] = "error"
    code: ErrorCode | HttpOnlyCode = Field(
        description="What went wrong, in one word (docs/http-api.md lists them)."
    )
    message: str = Field(description="The same, for a person.")
    first_seq: int | None = Field(
        default=None, description="history_trimmed: the oldest seq the project keeps."
    )


def status_of(code: str) -> int:
    return STATUS.get(code, 400)


def error_response(
    code: str, message: str, *, first_seq: int | None = None, allow: str | None = None
) -> JSONResponse:
    """A refusal as an HTTP response (``allow``: the methods a 405 names)."""
    status = status_of(code)
    headers = {"Cache-Control": "no-store"}
    if status in RETRY_AFTER:
        headers["Retry-After"] = RETRY_AFTER[status]
    if allow is not None:
        headers["Allow"] = allow
    body = {"type": "error", "code": code, "message": message, "first_seq": first_seq}
    return JSONResponse(body, status_code=status, headers=headers)


class ApiRefusal(Exception):
    """A request the API answers with an error response."""

    def __init__(self, code: str, message: str, first_seq: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.first_seq = first_seq

    def response(self) -> JSONResponse:
        return error_response(self.code, self.message, first_seq=self.first_seq)
