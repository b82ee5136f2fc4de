"""The API token: given by the operator, or generated once and kept in the data dir."""

import contextlib
import os
import secrets
from pathlib import Path

TOKEN_FILE = "token"  # noqa: S105 (a file name, not a secret)


def _read(path: Path) -> str:
    with contextlib.suppress(FileNotFoundError):
        return path.read_text(encoding="utf-8").strip()
    return ""


def new_token() -> str:
    """A random URL-safe token that never starts with ``-`` (``--token -x…`` would read
    as a flag on a command line)."""
    while (token := secrets.token_urlsafe(32)).startswith("-"):
        pass
    return token


def load_or_create_token(data_dir: Path, explicit: str | None) -> tuple[str, bool]:
    """Return ``(token, created)``.

    An explicit token is used as is and never written. Otherwise the token stored in
    ``data_dir/token`` is used, or a new one is written there with mode 0600. The file
    is written whole before it appears (temp file, then link), so a crash cannot leave
    an empty token behind; an empty or blank file is replaced; and when two servers
    start at once, the first link wins and both use its token.
    """
    if explicit:
        return explicit, False
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / TOKEN_FILE
    if stored := _read(path):
        return stored, False
    token = new_token()
    temp = data_dir / f".{TOKEN_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)  # appears only if absent, and only complete
        except FileExistsError:
            if stored := _read(path):
                return stored, False  # another server won
            os.replace(temp, path)  # an empty file: replace it
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return token, True
