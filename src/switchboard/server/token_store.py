"""The API token: given by the operator, or generated once and kept in the data dir."""

import contextlib
import os
import secrets
from pathlib import Path

TOKEN_FILE = "token"  # noqa: S105 (a file name, not a secret)


def load_or_create_token(data_dir: Path, explicit: str | None) -> tuple[str, bool]:
    """Return ``(token, created)``.

    An explicit token is used as is and never written. Otherwise the token stored in
    ``data_dir/token`` is used, or a new one is generated and written there with mode
    0600 (created exclusively, so two servers starting at once agree on one token).
    """
    if explicit:
        return explicit, False
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, False
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip(), False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token, True
