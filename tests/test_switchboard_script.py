"""``./scripts/switchboard``: the README's client commands, runnable from a checkout.

It is run against a stand-in virtualenv (``SWITCHBOARD_VENV``) whose ``python`` and
``switchboard`` only record how they were called: what is checked is the wrapper."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDER = (
    '#!/bin/sh\necho "$(basename "$0") $* [$SWITCHBOARD_PROGRAM]" >> "$(dirname "$0")/calls"\n'
)


def stand_in_venv(path: Path) -> Path:
    (path / "bin").mkdir(parents=True)
    for name in ("python", "switchboard"):
        program = path / "bin" / name
        program.write_text(RECORDER)
        program.chmod(0o755)
    return path / "bin" / "calls"


def test_it_installs_once_then_runs_switchboard_with_its_arguments(tmp_path: Path) -> None:
    calls = stand_in_venv(tmp_path / "venv")
    env = {"PATH": "/usr/bin:/bin", "SWITCHBOARD_VENV": str(tmp_path / "venv")}
    for args in (["prompt", "webapp", "two words"], ["projects"]):
        subprocess.run(["./scripts/switchboard", *args], cwd=ROOT, env=env, check=True, timeout=60)
    assert calls.read_text().splitlines() == [
        f"python -m pip install --quiet --disable-pip-version-check -e {ROOT}[bundled-cli] []",
        "switchboard prompt webapp two words [./scripts/switchboard]",
        "switchboard projects [./scripts/switchboard]",
    ]
