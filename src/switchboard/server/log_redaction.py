"""Keep tokens out of logs: uvicorn logs request paths, query strings included, and at
debug level the handshake's headers (``Authorization: Bearer``, and the web UI's
``Sec-WebSocket-Protocol: switchboard, bearer.TOKEN``)."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"']+")
_BEARER = re.compile(r"(?i)(bearer[.\s]+)[^\s,\"']+")


class RedactTokens(logging.Filter):
    """Replace ``token=<value>``, ``Bearer <value>`` and ``bearer.<value>`` with
    ``***`` in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = _BEARER.sub(r"\1***", _TOKEN_IN_QUERY.sub(r"\1***", record.msg))
        return True


def install() -> None:
    """Attach the filter to uvicorn's loggers (their handlers are set up by uvicorn),
    once however many servers a process builds."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
