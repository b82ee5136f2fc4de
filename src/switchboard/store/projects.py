"""What a project may be called, and the error a project request ends with."""

import re
from pathlib import Path
from typing import Literal

from switchboard.exceptions import RequestRefused

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ProjectError(RequestRefused):
    """A project request that cannot be done; ``code`` is the protocol's error code."""

    code: Literal["name_invalid", "name_taken", "unknown_project"]

    def __init__(
        self, code: Literal["name_invalid", "name_taken", "unknown_project"], message: str
    ) -> None:
        super().__init__(code, message)


def default_name(path: Path) -> str:
    """The directory's name, made valid: other characters become ``-``."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", path.name).strip("-._")[:64]
    return name if NAME_PATTERN.fullmatch(name) else "project"
