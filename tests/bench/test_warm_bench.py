"""The warm-session benchmark still runs with the real bundled CLI (one round; its
table is checked, no timing is asserted)."""

import pytest

from tests.bench.table import figures, run_bench


@pytest.mark.timeout(180)
def test_warm_benchmark_runs_the_real_cli_cold_and_warm() -> None:
    output = run_bench("warm", "--rounds", "1", timeout=170)
    for row in ("first CLI event, ms (median)", "whole run, ms (median)"):
        cold, warm, ratio = figures(output, row)
        assert cold > 0 and warm > 0 and ratio > 0
