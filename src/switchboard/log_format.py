"""How log lines look (``--log-format``): text, or one JSON object per line carrying the
project, run and connection they are about, where known.

What a line is about comes from context variables: the project's worker binds the
project, a run's task the run, a ``/ws`` connection's task the connection. Tasks
inherit them from the task that starts them, so a CLI started for a run logs with both.
"""

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FIELDS = ("project", "run", "connection")

_context: dict[str, contextvars.ContextVar[str | None]] = {
    name: contextvars.ContextVar(f"switchboard_log_{name}", default=None) for name in FIELDS
}


def bind(**values: str | None) -> None:
    """What the lines of this task (and of the tasks it starts) are about from now on."""
    for name, value in values.items():
        _context[name].set(value)


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    """:func:`bind` for a block, then as before."""
    tokens = [(_context[name], _context[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


class ContextFilter(logging.Filter):
    """Puts the bound project, run and connection on each record (None where unbound)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, _context[name].get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the project, run and
    connection where known (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, log_format: LogFormat) -> None:
    """The root logger on stderr, in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def uvicorn_formatters(config: dict[str, Any], log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's logging configuration with its lines in ``log_format`` too."""
    if log_format != "json":
        return config
    for name in ("default", "access"):
        config["formatters"][name] = {"()": f"{__name__}.JsonFormatter"}
    config.setdefault("filters", {})["context"] = {"()": f"{__name__}.ContextFilter"}
    for handler in config["handlers"].values():
        handler["filters"] = ["context"]
    return config
