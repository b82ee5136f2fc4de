"""The environment a ``switchboard serve --demo`` test server starts with."""

import os
from pathlib import Path

UNREACHABLE_MODEL = "http://127.0.0.1:9"
"""Nothing listens there: a CLI run that used the server's own settings would fail."""


def bare_environment(home: Path) -> dict[str, str]:
    """Ours, without any Claude or Switchboard settings, pointing the API nowhere, with
    ``home`` as HOME: a demo must set up what its CLI runs need by itself."""
    prefixes = ("SWITCHBOARD_", "ANTHROPIC_", "CLAUDE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=UNREACHABLE_MODEL,
        ANTHROPIC_API_KEY="sk-ant-not-for-the-demo",
    )
    return env
