"""A loopback stand-in for the Anthropic Messages API that follows a script.

Point the real Claude Code CLI at it with ``ANTHROPIC_BASE_URL`` and it runs real
tools, asks real permission questions and resumes real sessions, offline and
deterministically. Used by the tests, the demos and the benchmarks.
"""

from switchboard.scripted_model.environment import cli_environment
from switchboard.scripted_model.script import ApiError, Script, Turn
from switchboard.scripted_model.server import RecordedRequest, ScriptedModelServer

__all__ = [
    "ApiError",
    "RecordedRequest",
    "Script",
    "ScriptedModelServer",
    "Turn",
    "cli_environment",
]
