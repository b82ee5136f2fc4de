"""How each ``switchboard serve`` setting is read from its text (a flag's or an
environment variable's): each parser returns the value or raises ValueError saying
what is wrong, which :mod:`switchboard.config` words as a ConfigError."""

import math
import re
import shlex
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from switchboard.log_format import LogFormat


def positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def secret(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text


def port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be 0..65535 (0 picks a free port)")
    return value


def boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def command(text: str) -> tuple[str, ...]:
    argv = tuple(shlex.split(text))
    if not argv:
        raise ValueError("must name a command")
    return argv


def http_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return text.strip()


def notify_format(text: str) -> str:
    if text.lower() not in {"json", "ntfy"}:
        raise ValueError("must be json or ntfy")
    return text.lower()


def push_contact(text: str) -> str:
    host = r"(localhost|[\w-]+(\.[\w-]+)+)"  # what push services (and py_vapid) take
    if not re.fullmatch(rf"mailto:[^@\s]+@{host}|https://{host}", text.strip()):
        raise ValueError("must be mailto:NAME@DOMAIN or https://DOMAIN (no path)")
    return text.strip()


def containment(text: str) -> str:
    if text.lower() not in {"auto", "cgroup", "marker"}:
        raise ValueError("must be auto, cgroup or marker")
    return text.lower()


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE_UNITS = {"k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3, "gib": 1024**3}


def usd(text: str) -> float:
    """An amount in USD: a number, 0 or more (``$`` allowed)."""
    value = float(text.strip().removeprefix("$"))
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be an amount in USD, 0 or more")
    return value


def duration(text: str) -> float:
    """Seconds, or a number with ``s``, ``m``, ``h`` or ``d``: ``7d``, ``12h``."""
    unit = text.strip()[-1:].lower()
    scale = DURATION_UNITS.get(unit)
    value = float(text.strip()[:-1] if scale else text) * (scale or 1)
    if not 0 < value < float("inf"):
        raise ValueError("must be positive (seconds, or a number with s, m, h or d)")
    return value


def size(text: str) -> int:
    """A count, or a number with ``K``/``KiB``, ``M``/``MiB``, ``G``/``GiB``: ``500M``."""
    stripped = text.strip()
    number = stripped.rstrip("KkMmGgIiBb")
    scale = SIZE_UNITS.get(stripped[len(number) :].lower(), 0) if number != stripped else 1
    if not scale:
        raise ValueError("unknown unit (use K, M or G)")
    value = int(float(number) * scale)
    if value <= 0:
        raise ValueError("must be positive (a count, or a number with K, M or G)")
    return value


def log_format(text: str) -> LogFormat:
    if text not in ("text", "json"):
        raise ValueError("text or json")
    return "json" if text == "json" else "text"


def log_level(text: str) -> str:
    if text.lower() not in {"debug", "info", "warning", "error"}:
        raise ValueError("must be debug, info, warning or error")
    return text.lower()


DATABASE_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}
"""The URL schemes the store accepts, and the driver each one gets."""


def database_url(text: str) -> str:
    """A SQLAlchemy URL for SQLite or PostgreSQL (psycopg 3): ``postgresql://`` gets
    the psycopg driver. The errors never quote the URL (it may hold a password)."""
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise ValueError("not a database URL, e.g. postgresql+psycopg://user@host/db") from None
    driver = DATABASE_DRIVERS.get(url.drivername)
    if driver is None:
        known = ", ".join(sorted(DATABASE_DRIVERS))
        raise ValueError(f"unsupported database {url.drivername!r}: use one of {known}")
    if not url.database:
        raise ValueError("names no database")
    return url.set(drivername=driver).render_as_string(hide_password=False)


NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def node_id(text: str) -> str:
    """A cluster node's id: letters, digits, ``.``, ``_``, ``-`` (at most 64)."""
    text = text.strip()
    if not NODE_ID.fullmatch(text):
        raise ValueError("up to 64 letters, digits, '.', '_' and '-', first a letter or digit")
    return text


def redis_url(text: str) -> str:
    """A Redis URL (``redis://`` or ``rediss://``, TLS). The errors never quote it."""
    text = text.strip()
    scheme = text.partition("://")[0].lower()
    if scheme not in ("redis", "rediss") or not text.partition("://")[2]:
        raise ValueError("not a Redis URL, e.g. redis://127.0.0.1:6379/0")
    return text
