"""Reading the benchmarks' tables, and running a benchmark as the scripts do."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"(\d[\d,]*(?:\.\d+)?)"


def figures(table: str, row: str) -> list[float]:
    """The numbers on the table row that starts with ``row`` (the label's own excluded)."""
    for line in table.splitlines():
        if line.startswith(row):
            return [float(n.replace(",", "")) for n in re.findall(NUMBER, line[len(row) :])]
    pytest.fail(f"no row {row!r} in:\n{table}")


def run_bench(module: str, *args: str, timeout: float) -> str:
    """Run ``python -m bench.MODULE ARGS`` from the checkout; its output, once it
    succeeded."""
    argv = [sys.executable, "-m", f"bench.{module}", *args]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
