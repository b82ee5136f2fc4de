"""``switchboard serve --demo``: every feature, offline, without an API key.

The server starts a scripted model (:mod:`switchboard.scripted_model.demo_script`) on a
free loopback port and points every CLI run at it, with a HOME of its own under the
data dir, so the person's real Claude settings and credentials are neither used nor
touched. A project named ``demo`` is registered, so the web UI opens on it.
"""

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from switchboard.config import DEMO_PROJECT_DIR, Settings
from switchboard.exceptions import RequestRefused
from switchboard.hub.hub import Hub
from switchboard.printable import printable
from switchboard.scripted_model import ScriptedModelServer, cli_environment
from switchboard.scripted_model.demo_script import demo_script, write_project

log = logging.getLogger(__name__)

PROJECT_NAME = "demo"
CLI_HOME_DIR = "claude-home"
"""The CLI's HOME, under the data dir: its sessions and settings stay in the demo."""


def project_dir(settings: Settings) -> Path:
    return settings.data_dir / DEMO_PROJECT_DIR


@contextlib.contextmanager
def demo_mode(settings: Settings) -> Iterator[Settings]:
    """With ``settings.demo``: run the scripted model while the server runs, and yield
    settings whose CLI environment points at it. Otherwise: ``settings`` unchanged."""
    if not settings.demo:
        yield settings
        return
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    project = project_dir(settings)
    write_project(project)
    home = settings.data_dir / CLI_HOME_DIR
    home.mkdir(mode=0o700, exist_ok=True)
    with ScriptedModelServer(demo_script(project.resolve())) as model:
        yield replace(settings, claude_env=cli_environment(model.url, home, os.environ))


async def register_project(hub: Hub, settings: Settings) -> None:
    """Register the demo project as ``demo`` unless it already is (no-op without --demo).
    A refusal (another project named ``demo``, ``--allowed-root``) is only logged."""
    if not settings.demo:
        return
    path = project_dir(settings).resolve()
    if any(Path(info.path) == path for info in hub.project_infos()):
        return
    try:
        await hub.add_project(str(path), PROJECT_NAME)
    except RequestRefused as exc:
        log.warning("the demo project %s could not be registered: %s", printable(path), exc)


def banner(settings: Settings) -> list[str]:
    """The start-up lines that say this is the demo, and how to leave it."""
    if not settings.demo:
        return []
    model = (settings.claude_env or {}).get("ANTHROPIC_BASE_URL", "?")
    return [
        f"Offline demo: Claude's replies come from a built-in script (scripted model at "
        f"{model}); project '{PROJECT_NAME}' is {project_dir(settings)}.",
        "Run without --demo (and without SWITCHBOARD_DEMO) to use Claude for real.",
    ]
