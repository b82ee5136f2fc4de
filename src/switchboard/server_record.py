"""The running server's address, recorded in its data dir (``server.json``: url and
pid) so that client commands find a server started with ``--port`` from the data dir
alone. Written with mode 0600 once the server listens; removed when it stops."""

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

RECORD_FILE = "server.json"


def _read(path: Path) -> dict[str, object]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def recorded_url(data_dir: Path) -> str | None:
    """The URL of the server recorded in ``data_dir``, if its process is alive (a
    server killed outright leaves its record behind)."""
    record = _read(data_dir / RECORD_FILE)
    url = record.get("url")
    return url if isinstance(url, str) and _alive(record.get("pid")) else None


@contextlib.contextmanager
def server_recorded(data_dir: Path, url: str) -> Iterator[None]:
    """Record ``url`` (and this process) in ``data_dir`` meanwhile. The file appears
    whole (temp file, then rename); it is removed afterwards unless another server has
    recorded itself since."""
    path = data_dir / RECORD_FILE
    temp = data_dir / f".{RECORD_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"url": url, "pid": os.getpid()}, handle)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    try:
        yield
    finally:
        if _read(path).get("pid") == os.getpid():
            path.unlink(missing_ok=True)
