"""The sessions the Claude Code CLI has stored for a directory, read from its files.

The CLI keeps each session as JSON Lines in
``$CLAUDE_CONFIG_DIR/projects/<dir>/<session id>.jsonl`` (``CLAUDE_CONFIG_DIR``
defaults to ``~/.claude``), where ``<dir>`` is the working directory with every
character but ASCII letters and digits replaced by ``-``; names over 200 characters are
cut and given a hash suffix, found here by their prefix and the ``cwd`` their lines
record. Lines of type ``user`` and ``assistant`` are the conversation; the rest
(queue operations, attachments, summaries) is the CLI's bookkeeping. Checked with
2.1.197 and 2.1.330.

Blocking file I/O: call these off the event loop.
"""

import json
import re
from collections import deque
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from switchboard.agents.base import SessionHistory, StoredSession

NAME_LIMIT = 200
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CONVERSATION_TYPES = frozenset({"user", "assistant"})
HEAD_LINES = 200
"""How many lines of a session are read to find its first prompt."""
PROMPT_SHOWN = 200


def config_dir(env: Mapping[str, str]) -> Path:
    if env.get("CLAUDE_CONFIG_DIR"):
        return Path(env["CLAUDE_CONFIG_DIR"])
    return Path(env.get("HOME") or Path.home()) / ".claude"


def _session_dirs(cwd: Path, env: Mapping[str, str]) -> list[Path]:
    projects = config_dir(env) / "projects"
    name = re.sub(r"[^A-Za-z0-9]", "-", str(cwd))
    if len(name) <= NAME_LIMIT:
        return [projects / name]
    prefix = name[:NAME_LIMIT] + "-"
    try:
        return sorted(path for path in projects.iterdir() if path.name.startswith(prefix))
    except OSError:
        return []


def _session_files(cwd: Path, env: Mapping[str, str]) -> Iterator[Path]:
    for directory in _session_dirs(cwd, env):
        try:
            yield from (
                path
                for path in directory.iterdir()
                if path.suffix == ".jsonl" and SESSION_ID.fullmatch(path.stem) and path.is_file()
            )
        except OSError:
            continue


def _timestamp(entry: Mapping[str, Any]) -> float | None:
    stamp = entry.get("timestamp")
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _prompt_text(entry: Mapping[str, Any]) -> str | None:
    """The text a person typed, if ``entry`` is such a line."""
    if entry.get("type") != "user" or entry.get("isMeta") or entry.get("isSidechain"):
        return None
    message = entry.get("message")
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, list):
        texts = [
            b.get("text") for b in content if isinstance(b, Mapping) and b.get("type") == "text"
        ]
        content = " ".join(t for t in texts if isinstance(t, str))
    if not isinstance(content, str) or not content.strip() or content.startswith("<"):
        return None  # tool results, command echoes and system reminders are not prompts
    text = " ".join(content.split())
    return text if len(text) <= PROMPT_SHOWN else text[: PROMPT_SHOWN - 1] + "…"


def _describe(path: Path, cwd: Path) -> StoredSession | None:
    started: float | None = None
    prompt: str | None = None
    seen_cwd: str | None = None
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines):
            if number >= HEAD_LINES or prompt is not None:
                break
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict):
                continue
            started = started if started is not None else _timestamp(entry)
            seen_cwd = seen_cwd or entry.get("cwd")
            prompt = _prompt_text(entry)
    if seen_cwd is not None and Path(seen_cwd) != cwd:
        return None  # a long name's hash-suffixed neighbour, for another directory
    return StoredSession(path.stem, prompt, started, path.stat().st_mtime)


def list_sessions(cwd: Path, env: Mapping[str, str], limit: int = 100) -> list[StoredSession]:
    """The CLI's sessions for ``cwd`` that hold a conversation, newest first."""
    found: list[StoredSession] = []
    for path in sorted(_session_files(cwd, env), key=_mtime, reverse=True):
        try:
            session = _describe(path, cwd)
        except OSError:
            continue
        if session is not None and session.first_prompt is not None:
            found.append(session)
            if len(found) >= limit:
                break
    return found


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def find_session(cwd: Path, env: Mapping[str, str], session_id: str) -> Path | None:
    if not SESSION_ID.fullmatch(session_id):
        return None
    for directory in _session_dirs(cwd, env):
        path = directory / f"{session_id}.jsonl"
        if path.is_file():
            return path
    return None


def read_transcript(path: Path, limit: int, max_line_bytes: int) -> SessionHistory:
    """The conversation lines of a stored session (not its subagents' side chains)."""
    kept: deque[str] = deque(maxlen=limit)
    omitted = too_long = 0
    with path.open(encoding="utf-8", errors="replace") as lines:
        for raw in lines:
            line = raw.strip()
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or entry.get("type") not in CONVERSATION_TYPES:
                continue
            if entry.get("isSidechain") or entry.get("isMeta"):
                continue
            if len(line.encode()) > max_line_bytes:
                too_long += 1
                continue
            if len(kept) == limit:
                omitted += 1  # the oldest makes way
            kept.append(line)
    return SessionHistory(list(kept), omitted, too_long)
