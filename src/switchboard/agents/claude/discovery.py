"""Locate the Claude Code CLI.

Order: the ``--claude-bin`` setting, the ``SWITCHBOARD_CLAUDE_BIN`` environment
variable, ``claude`` on ``PATH``, then the binary bundled in an installed
``claude-agent-sdk`` wheel.
"""

import importlib.util
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from switchboard.exceptions import ClaudeNotFoundError

ENV_VAR = "SWITCHBOARD_CLAUDE_BIN"


def bundled_claude() -> Path | None:
    """The ``claude`` binary inside an installed ``claude-agent-sdk`` wheel, if any."""
    spec = importlib.util.find_spec("claude_agent_sdk")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_bundled" / "claude"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _executable(value: str, origin: str) -> Path:
    found = shutil.which(value)
    if found is None:
        raise ClaudeNotFoundError(f"{origin} names {value!r}, which is not an executable file")
    return Path(found).absolute()  # runs get their own cwd, so a relative path would break


def find_claude(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """Return the CLI to run, or raise :class:`ClaudeNotFoundError` naming every place tried."""
    env = os.environ if environ is None else environ
    if explicit:
        return _executable(explicit, "--claude-bin")
    if env.get(ENV_VAR):
        return _executable(env[ENV_VAR], ENV_VAR)
    on_path = shutil.which("claude", path=env.get("PATH"))
    if on_path:
        return Path(on_path).absolute()
    bundled = bundled_claude()
    if bundled is not None:
        return bundled
    raise ClaudeNotFoundError(
        "Claude Code CLI not found. Looked at, in order: the --claude-bin setting, the "
        f"{ENV_VAR} environment variable, 'claude' on PATH, and the binary bundled in "
        "the claude-agent-sdk Python package. Install one with "
        "'npm install @anthropic-ai/claude-code' or 'pip install claude-agent-sdk', "
        "or pass --claude-bin PATH."
    )
