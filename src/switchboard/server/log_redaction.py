"""Keep tokens out of logs: uvicorn logs request paths, query strings included, and at
debug level the handshake's headers (``Authorization: Bearer``, and the web UI's
``Sec-WebSocket-Protocol: switchboard, bearer.TOKEN``) and every frame (a
``token.create`` ack carries a scoped token's secret).

Records keep their shape: uvicorn's access formatter unpacks ``record.args`` (client,
method, path, version, status), so the token is redacted inside each argument.

Client faults that uvicorn logs as errors with a traceback (a text frame that is not
UTF-8) become one INFO line (:class:`ClientFaultsAsInfo`)."""

import copy
import dataclasses
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import unquote_plus

import uvicorn.config
from websockets.frames import Frame, Opcode

REDACTED = "***"
_QUERY_PARAMETER = re.compile(r"(?P<start>^|[?&\s])(?P<key>[^=&\s?#\"']+)=[^&\s?#\"']*")
_BEARER = re.compile(r"(?i)(bearer[.\s]+)[^\s,\"']+")
_JSON_SECRET = re.compile(r'(?i)("[^"\s]*(?:token|secret)[^"\s]*"\s*:\s*")[^"]*"')


def _redact_parameter(match: re.Match[str]) -> str:
    """A parameter whose decoded name holds ``token`` in any case (``token=``,
    ``TOKEN=``, ``tok%65n=``) loses its value; other parameters stay."""
    key = match["key"]
    if "token" not in unquote_plus(key).casefold():
        return match[0]
    return f"{match['start']}{key}={REDACTED}"


def redact(text: str) -> str:
    """``text`` with the values of token query parameters, ``Bearer <token>``,
    ``bearer.<token>`` and JSON strings named like a token or secret replaced by ``***``."""
    text = _QUERY_PARAMETER.sub(_redact_parameter, text)
    text = _JSON_SECRET.sub(rf'\1{REDACTED}"', text)
    return _BEARER.sub(rf"\1{REDACTED}", text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Frame) and value.opcode is Opcode.TEXT:
        # Before the frame shortens its payload for the log, which could hide the name.
        text = bytes(value.data).decode(errors="replace")
        return dataclasses.replace(value, data=redact(text).encode())
    return value


def _redact_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_redact_value(arg) for arg in args)
    if isinstance(args, Mapping):
        return {key: _redact_value(value) for key, value in args.items()}
    return args


class RedactTokens(logging.Filter):
    """Redact tokens (see :func:`redact`) in the message and in each argument of every
    record it sees, so that the record still formats as its logger meant it to."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = _redact_args(record.args)
        try:
            message = record.getMessage()
        except Exception:  # malformed: the handler will report it
            return True
        redacted = redact(message)
        if redacted != message:  # in msg itself, or its marker in msg and its value an arg
            record.msg, record.args = redacted, ()
        return True


class ClientFaultsAsInfo(logging.Filter):
    """A text frame that is not UTF-8 is the client's fault, answered with close 1007;
    uvicorn logs it as an ERROR with a traceback, so that any client could fill the log
    with them. It becomes one INFO line, without the traceback."""

    FAULTS: ClassVar[dict[str, str]] = {
        "Invalid UTF-8 sequence received from client.": "a text frame was not UTF-8"
    }

    def filter(self, record: logging.LogRecord) -> bool:
        said = self.FAULTS.get(record.msg) if isinstance(record.msg, str) else None
        if said is not None:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
            record.msg, record.args = f"closing a connection with 1007: {said}", ()
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with its access log on stderr like every other
    log line (uvicorn's default is stdout, which carries only the start-up banner)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def install() -> None:
    """Attach the filter to uvicorn's loggers (their handlers are set up by uvicorn),
    once however many servers a process builds."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ClientFaultsAsInfo) for f in error_log.filters):
        error_log.addFilter(ClientFaultsAsInfo())
