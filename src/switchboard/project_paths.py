"""Where a project may live: path rules, and opening a project's directory
when a run starts.

A project is a directory, named by its canonical path (symlinks resolved). Projects
never nest: a new project may neither lie inside a registered one nor contain one,
because a Claude session working in one would edit the other's files. Projects must
lie under an allowed root (``--allowed-root``, by default the server's user's home),
and some system directories are never projects (:data:`REFUSED_DIRECTORIES`,
:data:`REFUSED_TREES`).

A path is text from a client: control characters are refused, and every way the
operating system can refuse it (too long, permission denied, a loop of symlinks, a file
where a directory should be) becomes a :class:`ProjectPathError` with its own code.

When a run starts, :func:`open_project_directory` opens the registered path again, one
component at a time and without following any symlink, so that a directory swapped
for a symlink after registration is refused rather than followed.
"""

import errno
import fcntl
import os
import pwd
import stat
from collections.abc import Iterable
from pathlib import Path

from switchboard.exceptions import RequestRefused
from switchboard.printable import first_unsafe, printable
from switchboard.protocol.messages import PathProblem

REFUSED_DIRECTORIES = (Path("/"),)
"""Never a project, though directories under them may be."""
REFUSED_TREES = tuple(Path(p) for p in ("/etc", "/proc", "/sys", "/dev", "/boot"))
"""Never a project, and neither is any directory under them."""

_DIRECTORY_FLAGS = (
    getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
)
"""How :func:`open_project_directory` opens each component. ``O_PATH`` (Linux) needs no
read permission, only search permission on the parent, like a path lookup does."""


SHOWN_CHARACTERS = 300
"""Messages show at most this much of a path."""


def _shown(value: str | Path) -> str:
    """``value`` for a message: on one line (:func:`printable`), and not too long."""
    text = printable(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[:SHOWN_CHARACTERS]}… ({len(text)} characters)"


class ProjectPathError(RequestRefused):
    """Why a path cannot be a project; ``code`` is the protocol's error code."""

    code: PathProblem

    def __init__(self, code: PathProblem, message: str) -> None:
        super().__init__(code, message)


def refuse_unsafe_characters(raw: str | Path) -> None:
    """Raise ``bad_path`` if ``raw`` holds a control character (see
    :data:`~switchboard.printable.UNSAFE_CATEGORIES`)."""
    text = str(raw)
    index = first_unsafe(text)
    if index is not None:
        character = _shown(text[index])
        raise ProjectPathError(
            "bad_path",
            f"{_shown(text)}: control character {character} at position {index} "
            "(paths may not hold control characters)",
        )


def _os_problem(shown: str, exc: OSError) -> ProjectPathError:
    """What an operating system error says about the path ``shown``."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ProjectPathError(
            "access_denied", f"{shown}: permission denied (the server runs as {_user()})"
        )
    if exc.errno == errno.ENOENT:
        return ProjectPathError("not_found", f"{shown} does not exist")
    if exc.errno == errno.ENOTDIR:
        return ProjectPathError("not_a_directory", f"{shown}: a part of it is not a directory")
    if exc.errno == errno.ENAMETOOLONG:
        return ProjectPathError("bad_path", f"{shown}: too long for the file system")
    if exc.errno == errno.ELOOP:
        return ProjectPathError("bad_path", f"{shown}: too many levels of symbolic links")
    return ProjectPathError("bad_path", f"{shown}: {exc.strerror or exc}")


def _user() -> str:
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def canonical(raw: str | Path) -> Path:
    """The absolute path with ``~`` expanded and every symlink resolved. Raises
    :class:`ProjectPathError` (``bad_path``, ``access_denied``, …), never another
    exception, whatever ``raw`` holds."""
    refuse_unsafe_characters(raw)
    shown = _shown(raw)
    if not str(raw):
        raise ProjectPathError("bad_path", "the path is empty")
    try:
        expanded = Path(raw).expanduser()
    except RuntimeError as exc:  # ~someone who has no home here
        raise ProjectPathError("bad_path", f"{shown}: {exc}") from None
    try:
        return expanded.resolve(strict=False)
    except RuntimeError:  # Python < 3.13 on a loop of symlinks
        raise ProjectPathError("bad_path", f"{shown}: a loop of symbolic links") from None
    except OSError as exc:
        raise _os_problem(shown, exc) from None
    except ValueError as exc:
        raise ProjectPathError("bad_path", f"{shown}: {exc}") from None


def refuse_system_directory(path: Path) -> None:
    """Raise ``system_directory`` if canonical ``path`` is one of the directories no
    project may be (in their literal and their resolved spelling)."""
    for refused in REFUSED_DIRECTORIES:
        if path in (refused, refused.resolve()):
            raise ProjectPathError("system_directory", f"{_shown(path)} cannot be a project")
    for tree in REFUSED_TREES:
        for spelling in {tree, tree.resolve()}:
            if path == spelling or path.is_relative_to(spelling):
                raise ProjectPathError(
                    "system_directory",
                    f"{_shown(path)} cannot be a project (nothing under {tree} can)",
                )


def check_project_path(
    raw: str | Path, registered: Iterable[Path], allowed_roots: Iterable[Path] = ()
) -> Path:
    """Return the canonical path for a new project, or raise :class:`ProjectPathError`.
    No roots: any directory but the refused ones."""
    path = canonical(raw)
    shown = _shown(path)
    refuse_system_directory(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise _os_problem(shown, exc) from None
    if not stat.S_ISDIR(mode):
        raise ProjectPathError("not_a_directory", f"{shown} is not a directory")
    roots = [canonical(root) for root in allowed_roots]
    if roots and not any(path == root or path.is_relative_to(root) for root in roots):
        listed = ", ".join(_shown(root) for root in roots)
        raise ProjectPathError("outside_roots", f"{shown} is not under an allowed root ({listed})")
    for other in registered:
        if path == other:
            raise ProjectPathError("duplicate", f"{shown} is already a project")
        if path.is_relative_to(other):
            raise ProjectPathError("nested", f"{shown} lies inside the project {_shown(other)}")
        if other.is_relative_to(path):
            raise ProjectPathError("contains", f"{shown} contains the project {_shown(other)}")
    return path


def open_project_directory(path: Path) -> int:
    """Open a project's registered (canonical) ``path`` for a run to start in, and
    return its descriptor (the caller closes it).

    Each component is opened relative to the one before, never following a symlink,
    so the directory opened is the one at ``path`` with no symlink on the way (which
    is what ``os.path.realpath(path) == path`` means, without a window between the
    check and the use). Raises :class:`ProjectPathError` saying which component is
    wrong: a symlink (and where it points), missing, not a directory, not searchable;
    or ``path`` is one of the refused system directories.
    """
    if not path.is_absolute():
        raise ProjectPathError("bad_path", f"{_shown(path)} is not an absolute path")
    refuse_system_directory(path)
    fd = os.open("/", _DIRECTORY_FLAGS)
    walked = Path("/")
    try:
        for part in path.parts[1:]:
            walked /= part
            try:
                child = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _component_problem(fd, part, walked, exc) from None
            os.close(fd)
            fd = child
        if fd <= 2:  # 0-2 become the child's stdio: it would chdir to a pipe
            low, fd = fd, fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
            os.close(low)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _component_problem(parent: int, part: str, walked: Path, exc: OSError) -> ProjectPathError:
    """Why ``part`` (``walked``, in the directory ``parent``) could not be opened."""
    shown = _shown(walked)
    try:
        mode = os.lstat(part, dir_fd=parent).st_mode
    except OSError:
        return _os_problem(shown, exc)
    if stat.S_ISLNK(mode):
        try:
            target = _shown(os.readlink(part, dir_fd=parent))
        except OSError:
            target = "?"
        return ProjectPathError(
            "not_a_directory",
            f"{shown} is a symlink (to {target}); a project's path is not followed through "
            "symlinks",
        )
    if not stat.S_ISDIR(mode):
        return ProjectPathError("not_a_directory", f"{shown} is not a directory")
    return _os_problem(shown, exc)


def directory_cwd(fd: int, path: Path) -> Path:
    """Where a process started now should ``chdir`` to be in the directory open as
    ``fd`` (at ``path``): on Linux, ``/proc/self/fd/FD``, which the child resolves to
    the very directory it inherited open, wherever a path now leads; elsewhere, ``path``
    itself (a symlink swapped in between the open and the start would be followed)."""
    through_proc = Path(f"/proc/self/fd/{fd}")
    return through_proc if through_proc.is_dir() else path
