"""Keep tokens out of logs: uvicorn logs request paths, query strings included."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Replace ``token=<value>`` with ``token=***`` in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = _TOKEN_IN_QUERY.sub(r"\1***", record.msg)
        return True


def install() -> None:
    """Attach the filter to uvicorn's loggers (their handlers are set up by uvicorn)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokens())
