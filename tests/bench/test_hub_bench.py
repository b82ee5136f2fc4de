"""The hub benchmark still runs (tiny sizes; its table is checked, no timing is asserted)."""

import pytest

from tests.bench.table import figures, run_bench


@pytest.mark.timeout(180)
def test_hub_benchmark_runs_and_reports_every_row() -> None:
    output = run_bench(
        "hub",
        "--subscribers",
        "1,10",
        "--deliveries",  # N=1: 20,000 lines, enough CPU time for /proc's 10 ms ticks
        "20000",
        "--rounds",
        "1",
        "--replay-events",
        "2000",
        "--idle-subscribers",
        "50",
        "--client-procs",
        "2",
        timeout=170,
    )
    table = output.split("hub benchmark:", 1)[-1]

    hub_rate, raw_rate, ratio, target = figures(table, "fan-out, 10 subscribers (events/s)")
    assert hub_rate > 0 and raw_rate > 0 and ratio > 0 and target == 1.0
    least, base, ceiling = figures(table, "  its ceiling on this design (us/line)")
    assert least > base > 0 and ceiling == pytest.approx(base / least, abs=0.01)
    assert "the floor: CPU us per line the hub cannot skip" in output
    seconds, baseline, ratio, target = figures(table, "replay of 2,000 events (s, median)")
    assert seconds > 0 and baseline > 0 and ratio > 0 and target == 1.0
    (rate,) = figures(table, "replay, events/s")
    assert rate > 0
    stall, idle, _target = figures(table, "replay, max event-loop stall (ms)")
    assert stall > 0 and idle > 0
    hub_kib, raw_kib, _ratio, _target = figures(table, "memory per idle subscriber (KiB)")
    assert hub_kib > 0 and raw_kib > 0
