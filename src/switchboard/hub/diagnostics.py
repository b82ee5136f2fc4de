"""The diagnostics clients share with Claude (``diagnostics.publish``), per project and
file: the latest set per path is stored, replaces the last, and is logged as a
``diagnostics`` event; ``get_diagnostics`` reads them."""

import posixpath
import time
from collections.abc import Awaitable, Callable

from switchboard.exceptions import RequestRefused
from switchboard.project_paths import refuse_unsafe_characters
from switchboard.protocol.back_channel import (
    MAX_DIAGNOSTIC_CHARS,
    MAX_DIAGNOSTIC_PATHS,
    Diagnostic,
    DiagnosticsInfo,
    DiagnosticsPublished,
)
from switchboard.store.ports import BackChannelStore
from switchboard.store.records import NewEvent, ProjectRecord

Append = Callable[[str, NewEvent], Awaitable[None]]


def project_path(project: ProjectRecord, path: str) -> str:
    """``path`` as the project's files are named: relative to its directory, normalised.
    Raises ``bad_path`` for one outside it."""
    refuse_unsafe_characters(path)
    root = str(project.path).rstrip("/") + "/"
    if path.startswith("/"):
        if not path.startswith(root):
            raise RequestRefused("bad_path", f"{path!r} is not inside the project ({project.path})")
        path = path[len(root) :]
    normal = posixpath.normpath(path)
    if normal in {".", ""} or normal == ".." or normal.startswith("../"):
        raise RequestRefused("bad_path", f"{path!r} names no file of the project")
    return normal


class DiagnosticsBoard:
    def __init__(self, store: BackChannelStore, append: Append) -> None:
        self._store = store
        self._append = append
        self._sizes: dict[str, dict[str, int]] = {}
        """Per project: each file's diagnostics, in characters of JSON (built when first
        needed)."""

    def _sizes_of(self, project_id: str) -> dict[str, int]:
        if project_id not in self._sizes:
            files = self._store.diagnostics(project_id)
            self._sizes[project_id] = {f.path: len(f.model_dump_json()) for f in files}
        return self._sizes[project_id]

    def forget_project(self, project_id: str) -> None:
        self._sizes.pop(project_id, None)

    def of_project(self, project_id: str, path: str | None = None) -> list[DiagnosticsInfo]:
        files = self._store.diagnostics(project_id)
        return files if path is None else [file for file in files if file.path == path]

    async def publish(
        self, project: ProjectRecord, path: str, diagnostics: list[Diagnostic], by: str | None
    ) -> DiagnosticsInfo:
        """Replace a file's diagnostics. Raises ``bad_path`` or ``limit_reached``."""
        name = project_path(project, path)
        known = {file.path for file in self._store.diagnostics(project.id)}
        if diagnostics and name not in known and len(known) >= MAX_DIAGNOSTIC_PATHS:
            raise RequestRefused(
                "limit_reached",
                f"the project has diagnostics for {len(known)} files, the most kept; "
                "clear some (publish an empty list) first",
            )
        file = DiagnosticsInfo(path=name, diagnostics=diagnostics, published_at=time.time(), by=by)
        sizes = self._sizes_of(project.id)
        size = len(file.model_dump_json()) if diagnostics else 0
        total = sum(sizes.values()) - sizes.get(name, 0) + size
        if size and total > MAX_DIAGNOSTIC_CHARS:
            raise RequestRefused(
                "limit_reached",
                f"the project's diagnostics would take {total} characters, over the "
                f"{MAX_DIAGNOSTIC_CHARS} kept; clear some (publish an empty list) first",
            )
        await self._store.put_diagnostics(project.id, file)
        if size:
            sizes[name] = size
        else:
            sizes.pop(name, None)
        body = DiagnosticsPublished(file=file).model_dump_json(exclude_none=True)
        await self._append(project.id, NewEvent("diagnostics", body))
        return file
