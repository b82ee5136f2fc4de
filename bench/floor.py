"""The per-line work a hub that keeps its promises cannot skip, each part at its cheapest.

For each CLI line the bare broadcast baseline reads bytes, frames them and writes them.
The hub does that too, and on top of it, at the least:

- decodes the line, which validates it as JSON (msgspec, reading only ``type``);
- reads an assistant line's usage, for cost and budget bookkeeping (a typed msgspec
  decode of just that field, cheaper than the hub's dict parse);
- stores it before anyone sees it: one row per line with ``executemany`` of a prepared
  statement on plain ``sqlite3``, in transactions of :data:`GROUP` lines (WAL,
  ``synchronous=NORMAL``), cheaper than the hub's store;
- wraps it in an ``event`` envelope.

The sum is a floor: an ideal implementation of this design, in Python, still spends it
on each line. Given the baseline's CPU per line from the same run, it bounds the ratio
the hub can reach with one subscriber: ``baseline / (baseline + floor)``.
"""

import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from bench.hub_agent import ASSISTANT
from switchboard.agents.claude.stream_json import decode_line
from switchboard.protocol.messages import event_frame

GROUP = 100
"""Lines per transaction: what the hub's batches hold when the CLI streams quickly."""
LINES = 20_000
REPEATS = 5


class _Usage(msgspec.Struct):
    input_tokens: int = 0
    output_tokens: int = 0


class _Message(msgspec.Struct):
    usage: _Usage | None = None


class _Assistant(msgspec.Struct):
    type: str
    message: _Message | None = None


_decode_usage = msgspec.json.Decoder(_Assistant).decode


def _best_us(work: Callable[[], Any], items: int) -> float:
    """The fastest of :data:`REPEATS` runs of ``work``, in µs per item (CPU time)."""
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best / items * 1e6


def _store_us(lines: list[str], directory: Path) -> float:
    database = sqlite3.connect(directory / "floor.db", isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    database.execute(
        "CREATE TABLE events (project_id TEXT, seq INTEGER, epoch INTEGER, run_id TEXT,"
        " kind TEXT, body TEXT, created_at REAL, PRIMARY KEY (project_id, seq))"
    )
    sql = "INSERT INTO events VALUES (?, ?, 1, 'run', 'cli', ?, ?)"
    rounds = iter(range(REPEATS))

    def store() -> None:
        project = f"p{next(rounds)}"
        now = time.time()
        for start in range(0, len(lines), GROUP):
            group = lines[start : start + GROUP]
            database.execute("BEGIN")
            database.executemany(
                sql, [(project, start + i + 1, line, now) for i, line in enumerate(group)]
            )
            database.execute("COMMIT")

    try:
        return _best_us(store, len(lines))
    finally:
        database.close()


def measure(lines: int = LINES) -> dict[str, float]:
    """µs of CPU per line for each part of the floor, and their ``total``."""
    raw = [(ASSISTANT % (i, i)).encode() for i in range(lines)]
    texts = [line.rstrip(b"\n").decode() for line in raw]
    parts = {
        "decode": _best_us(lambda: [decode_line(line) for line in raw], lines),
        "usage": _best_us(lambda: [_decode_usage(text) for text in texts], lines),
        "envelope": _best_us(
            lambda: [
                event_frame("project", i, epoch=1, run="run", kind="cli", body=text)
                for i, text in enumerate(texts)
            ],
            lines,
        ),
    }
    with tempfile.TemporaryDirectory(prefix="switchboard-floor-") as directory:
        parts["store"] = _store_us(texts, Path(directory))
    parts["total"] = sum(parts.values())
    return parts


def ceiling(baseline_us: float, floor_us: float) -> float:
    """The best hub/baseline rate ratio with ``floor_us`` more work per line."""
    return baseline_us / (baseline_us + floor_us)


if __name__ == "__main__":
    print(json.dumps({name: round(value, 2) for name, value in measure().items()}))
