"""The latency benchmark still runs (tiny sizes; its table is checked, no timing is
asserted)."""

import pytest

from tests.bench.table import figures, run_bench


@pytest.mark.timeout(180)
def test_latency_benchmark_runs_and_reports_p3_and_p8() -> None:
    output = run_bench(
        *("latency", "--subscribers", "3", "--lines", "100", "--rate", "500"),
        *("--projects", "3", "--project-rate", "100", "--seconds", "0.5", "--rounds", "1"),
        timeout=170,
    )
    for name in ("p50", "p99"):
        hub, baseline, ratio = figures(output, f"latency {name}, ms (median round)")[:3]
        assert hub > 0 and baseline > 0 and ratio > 0
    for row in ("p50 over all lines", "p99 per subscriber, median", "p99 per subscriber, worst"):
        together, alone, ratio = figures(output, f"{row}, ms")
        assert together > 0 and alone > 0 and ratio > 0
