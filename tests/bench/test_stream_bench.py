"""The streaming benchmark still runs (a small smoke run; no timing is asserted)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "stream.py"


def test_stream_benchmark_runs_and_reports_a_ratio() -> None:
    if shutil.which("websocketd") is None:
        pytest.fail("websocketd missing: run ./scripts/test, which installs it")
    result = subprocess.run(
        [sys.executable, str(BENCH), "--lines", "3000", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "3,000 lines, one client" in result.stdout
    assert "ratio switchboard / websocketd (lines/s): best" in result.stdout
