"""The web UI benchmark still runs (tiny sizes; its table is checked, no timing is asserted)."""

import pytest

from tests.bench.table import figures, run_bench


@pytest.mark.timeout(240)
def test_web_benchmark_runs_and_reports_both_histories() -> None:
    output = run_bench(
        "web",
        "--runs",
        "20",
        "--short-runs",
        "2",
        "--rounds",
        "1",
        "--scroll-frames",
        "10",
        timeout=230,
    )
    table = output.split("web UI benchmark:", 1)[-1]
    long, short = figures(table, "long"), figures(table, "short")
    assert long[:1] == [20] and short[:1] == [2]  # runs
    assert long[1] == 10 * short[1] > 0  # events: ten times the runs, ten times the events
    for row in (long, short):
        _runs, _events, opened, wire, ratio, *_rest, elements, _heap = row
        assert opened > 0 and wire > 0 and ratio > 0 and elements > 0
    assert "open, long history:" in table and "scroll, p95 frame interval" in table
