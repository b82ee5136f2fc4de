"""``switchboard serve`` and ``switchboard scripted-model`` stop with exit 0 on SIGINT
and on SIGTERM, also when started with SIGINT ignored, as a background job of a
non-interactive shell is (``cmd &`` in a script)."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = {
    "serve": ["serve", "--port", "0", "--data-dir", "{tmp}/data"],
    "scripted-model": ["scripted-model", "--port", "0"],
}


IGNORING_SIGINT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])",
]
"""Runs the Python arguments that follow with SIGINT ignored, as ``cmd &`` does in a
script (the disposition survives exec)."""


def test_the_launcher_really_starts_python_with_sigint_ignored() -> None:
    shown = subprocess.run(
        [*IGNORING_SIGINT, "-c", "import signal; print(signal.getsignal(signal.SIGINT))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert shown.stdout.strip() == str(signal.SIG_IGN)


@pytest.mark.parametrize("sigint_ignored", [True, False], ids=["sigint-ignored", "default"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_stop_signal_ends_the_command_with_exit_0(
    tmp_path: Path, command: str, sig: signal.Signals, sigint_ignored: bool
) -> None:
    args = [arg.format(tmp=tmp_path) for arg in COMMANDS[command]]
    python = IGNORING_SIGINT if sigint_ignored else [sys.executable]
    process = subprocess.Popen(
        [*python, "-m", "switchboard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert " listening on http://" in process.stdout.readline()
        process.send_signal(sig)
        _, errors = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
