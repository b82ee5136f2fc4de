"""Where a project may live (seed 004): path rules; only ``resolve`` and ``stat`` touch disk.

A project is a directory, named by its canonical path (symlinks resolved). Projects
never nest: a new project may neither lie inside a registered one nor contain one,
because a Claude session working in one would edit the other's files. An optional list
of allowed roots confines projects to parts of the disk.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PathProblem = Literal[
    "not_found", "not_a_directory", "duplicate", "nested", "contains", "outside_roots"
]


@dataclass  # not frozen: raising sets __traceback__ on it
class ProjectPathError(Exception):
    """Why a path cannot be a project; ``code`` is the protocol's error code."""

    code: PathProblem
    message: str

    def __str__(self) -> str:
        return self.message


def canonical(raw: str | Path) -> Path:
    """The absolute path with ``~`` expanded and every symlink resolved."""
    return Path(raw).expanduser().resolve(strict=False)


def check_project_path(
    raw: str | Path, registered: Iterable[Path], allowed_roots: Iterable[Path] = ()
) -> Path:
    """Return the canonical path for a new project, or raise :class:`ProjectPathError`."""
    path = canonical(raw)
    if not path.exists():
        raise ProjectPathError("not_found", f"{path} does not exist")
    if not path.is_dir():
        raise ProjectPathError("not_a_directory", f"{path} is not a directory")
    roots = [canonical(root) for root in allowed_roots]
    if roots and not any(path == root or path.is_relative_to(root) for root in roots):
        shown = ", ".join(str(root) for root in roots)
        raise ProjectPathError("outside_roots", f"{path} is not under an allowed root ({shown})")
    for other in registered:
        if path == other:
            raise ProjectPathError("duplicate", f"{path} is already a project")
        if path.is_relative_to(other):
            raise ProjectPathError("nested", f"{path} lies inside the project {other}")
        if other.is_relative_to(path):
            raise ProjectPathError("contains", f"{path} contains the project {other}")
    return path
