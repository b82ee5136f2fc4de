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
MAX_APPROVAL_DIFF_CHARS = 1_000_000
"""The diffs of one approval together: later ones are cut to what is left."""
MAX_DIFFED_LINES = 20_000
"""Above this many lines on either side, the change is shown as the whole file replaced:
difflib's matching can take very long on big files of repeated lines."""


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
    old = "" if state is None or state.content is None else state.content
    before, after = old.splitlines(keepends=True), new_content.splitlines(keepends=True)
    names = ("/dev/null" if new_file else f"a/{path}", f"b/{path}")
    if max(len(before), len(after)) > MAX_DIFFED_LINES:
        lines = _replaced(before, after, *names)  # no matching: all out, all in
    else:
        lines = list(difflib.unified_diff(before, after, *names))
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return _cut(FileDiff(path=path, diff=text, new_file=new_file))


def check_total(sizes: list[int]) -> None:
    total = sum(sizes)
    if total > MAX_TOTAL_CHARS:
        raise ToolError(
            "content_too_large",
            f"the changes hold {total} characters together; at most {MAX_TOTAL_CHARS}",
        )


def _replaced(before: list[str], after: list[str], old: str, new: str) -> list[str]:
    """A unified diff of one hunk that takes every line out and puts every line in."""
    hunk = f"@@ -1,{len(before)} +1,{len(after)} @@\n"
    removed = [f"-{line}" for line in before]
    added = [f"+{line}" for line in after]
    return [f"--- {old}\n", f"+++ {new}\n", hunk, *removed, *added]


def within_budget(changes: list[FileDiff]) -> list[FileDiff]:
    """The diffs of one approval, later ones cut so that together they fit."""
    left = MAX_APPROVAL_DIFF_CHARS
    fitted = []
    for change in changes:
        fitted.append(_cut(change, left))
        left = max(0, left - len(fitted[-1].diff))
    return fitted


def _cut(change: FileDiff, limit: int = MAX_DIFF_CHARS) -> FileDiff:
    limit = min(limit, MAX_DIFF_CHARS)
    if len(change.diff) <= limit:
        return change
    return change.model_copy(update={"diff": change.diff[:limit], "truncated": True})
