"""The stress benchmark still runs (tiny sizes; its table is checked, no figure is
asserted)."""

import re

import pytest

from tests.bench.table import figures, run_bench


@pytest.mark.timeout(180)
def test_stress_benchmark_runs_and_reports_every_row() -> None:
    output = run_bench(
        "stress",
        "--messages",
        "6",
        "--message-bytes",
        "200000",
        "--idle",
        "40",
        "--half-open",
        "10",
        "--rounds",
        "1",
        "--memory-rounds",
        "2",
        "--lines",
        "10",
        timeout=170,
    )
    table = output.split("stress benchmark:", 1)[-1]

    growth, *_target = figures(table, "RSS growth, 6 x 200,000 B unread (MiB)")
    assert growth >= 0
    assert "the median round: sent 6 messages" in table
    assert len(re.findall(r"\d[\d,]*/\d[\d,]*/\d[\d,]*", table)) == 2  # each round's RSS
    flooded, quiet, ratio, *_best = figures(table, "prompt, 40 idle + 10 half-open held (ms)")
    assert flooded > 0 and quiet > 0 and ratio > 0
    flooded, quiet, ratio, *_best = figures(table, "connect, 40 idle + 10 half-open held (ms)")
    assert flooded > 0 and quiet > 0 and ratio > 0
    assert "flood connections open at each round: 50 of 50" in table
