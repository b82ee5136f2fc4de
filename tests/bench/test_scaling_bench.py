"""The scaling benchmark still runs (tiny sizes; its tables are checked, no timing is
asserted), and drops the databases it made."""

import pytest
from sqlalchemy import create_engine, text

from tests.bench.table import figures, run_bench
from tests.support.databases import ADMIN_URL


def bench_databases() -> set[str]:
    engine = create_engine(ADMIN_URL)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE 'switchboard_bench_%'")
            )
            return set(rows.scalars())
    finally:
        engine.dispose()


@pytest.mark.timeout(180)
def test_scaling_benchmark_replays_from_both_stores_and_drops_its_database() -> None:
    before = bench_databases()
    output = run_bench(
        "scaling",
        "--replay-events",
        "3000",
        "--rounds",
        "2",
        "--postgres-url",
        ADMIN_URL,
        timeout=170,
    )
    table = output.split("scaling benchmark:", 1)[-1]
    postgresql, sqlite, ratio = figures(table, "replay of 3,000 events (s, median)")
    assert postgresql > 0 and sqlite > 0 and ratio > 0
    assert all(rate > 0 for rate in figures(table, "replay, events/s"))
    assert len(figures(table, "  postgresql rounds (s):")) == 2
    assert bench_databases() <= before
