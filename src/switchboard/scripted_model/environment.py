"""The environment for a real CLI run against the scripted model."""

from collections.abc import Mapping
from pathlib import Path

DROPPED_PREFIXES = ("SWITCHBOARD_", "ANTHROPIC_", "CLAUDE_")
"""Settings of the caller's own that would change how the server or the CLI runs:
another config dir (CLAUDE_CONFIG_DIR), Bedrock or Vertex instead of the model
(CLAUDE_CODE_USE_*), real credentials (CLAUDE_CODE_OAUTH_TOKEN, ANTHROPIC_*)."""


def cli_environment(model_url: str, home: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` (usually ``os.environ``) pointed at the model at ``model_url``, with its
    own HOME (so no real settings, sessions or credentials are read), a placeholder API
    key, and no telemetry or auto-update traffic."""
    env = {k: v for k, v in base.items() if not k.startswith(DROPPED_PREFIXES)}
    env.pop("CLAUDECODE", None)  # set inside a Claude Code session
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=model_url,
        ANTHROPIC_API_KEY="sk-ant-test-not-a-real-key",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
    )
    return env
