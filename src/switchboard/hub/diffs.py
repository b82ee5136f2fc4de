"""The diffs the back-channel shows: a proposed change as a unified diff against the
file as the agent's side read it (:class:`~switchboard.agents.base.FileState`)."""

import difflib

from switchboard.agents.base import FileState
from switchboard.hub.back_channel_errors import ToolError
from switchboard.protocol.back_channel import FileDiff

MAX_CONTENT_CHARS = 1_000_000
"""A change's new content, or its diff, may be this long at most."""
MAX_TOTAL_CHARS = 4_000_000
"""The content of all the changes of one request_approval together."""
MAX_DIFF_CHARS = 200_000
"""A diff longer than this is cut (``truncated``)."""


def file_diff(
    path: str, state: FileState | None, new_content: str | None, diff: str | None
) -> FileDiff:
    """The change to ``path``: a diff given as it is, or one computed from the new
    content. Raises :class:`ToolError`."""
    if (new_content is None) == (diff is None):
        raise ToolError("bad_arguments", f"{path}: give either new_content or diff")
    given = new_content if new_content is not None else diff
    assert given is not None
    if len(given) > MAX_CONTENT_CHARS:
        raise ToolError(
            "content_too_large",
            f"{path}: {len(given)} characters; at most {MAX_CONTENT_CHARS} are shown",
        )
    if state is not None and state.problem is not None:
        raise ToolError("bad_path", f"{path}: {state.problem}")
    new_file = state is None or state.content is None
    if diff is not None:
        return _cut(FileDiff(path=path, diff=diff, new_file=new_file))
    assert new_content is not None
    before = "" if state is None or state.content is None else state.content
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        new_content.splitlines(keepends=True),
        fromfile="/dev/null" if new_file else f"a/{path}",
        tofile=f"b/{path}",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return _cut(FileDiff(path=path, diff=text, new_file=new_file))


def check_total(sizes: list[int]) -> None:
    total = sum(sizes)
    if total > MAX_TOTAL_CHARS:
        raise ToolError(
            "content_too_large",
            f"the changes hold {total} characters together; at most {MAX_TOTAL_CHARS}",
        )


def _cut(change: FileDiff) -> FileDiff:
    if len(change.diff) <= MAX_DIFF_CHARS:
        return change
    return change.model_copy(update={"diff": change.diff[:MAX_DIFF_CHARS], "truncated": True})
