"""The agent's outbox on disk: what its processes said for the hub, kept until the hub
has acknowledged it, so that a cut link (or a hub restart) loses none of it.

Every message is numbered (``seq``, growing across links and restarts of the link) and
written to a SQLite file before it is sent; the hub acknowledges cumulatively ("all up
to N are stored") and acknowledged rows are deleted. After a reconnect, everything not
acknowledged is sent again in order, and the hub drops what it already has by ``seq``.
The spool is bounded in bytes: past ``max_bytes`` it refuses more (:class:`SpoolFull`),
and the agent stops the processes that would go on unrecorded.
"""

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any


class SpoolFull(Exception):
    """The spool holds ``max_bytes`` already: the hub has been away too long."""


class Spool:
    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " session TEXT NOT NULL, body TEXT NOT NULL)"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('spool_id', ?)", (uuid.uuid4().hex,)
            )
            found = self._db.execute("SELECT value FROM meta WHERE key = 'spool_id'").fetchone()
            self.spool_id = str(found[0])
            """Names this spool: the hub counts seqs per spool (a new file starts again)."""
            row = self._db.execute("SELECT COALESCE(SUM(LENGTH(body)), 0) FROM outbox").fetchone()
            self._bytes = int(row[0])
        path.chmod(0o600)

    @property
    def size(self) -> int:
        """Bytes of messages waiting for the hub's acknowledgement."""
        return self._bytes

    def put(self, message: dict[str, Any]) -> int:
        """Keep ``message`` (it gets the next ``seq``); returns the seq."""
        with self._lock:
            if self._bytes >= self._max_bytes:
                raise SpoolFull(f"the spool holds {self._bytes} bytes the hub has not taken")
            body = json.dumps(message, separators=(",", ":"))
            session = str(message.get("session", ""))
            cursor = self._db.execute(
                "INSERT INTO outbox (session, body) VALUES (?, ?)", (session, body)
            )
            self._bytes += len(body)
            return int(cursor.lastrowid or 0)

    def after(self, seq: int, limit: int = 200) -> list[tuple[int, str]]:
        """Kept messages after ``seq``, oldest first, ready to send (with their seq)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [(int(row[0]), f'{{"seq":{int(row[0])},{str(row[1])[1:]}') for row in rows]

    def sessions(self) -> set[str]:
        """The sessions that have messages waiting for the hub."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT session FROM outbox").fetchall()
        return {str(row[0]) for row in rows}

    def ack(self, seq: int) -> None:
        """The hub has everything up to ``seq``: forget it."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(LENGTH(body)), 0) FROM outbox WHERE seq <= ?", (seq,)
            ).fetchone()
            self._db.execute("DELETE FROM outbox WHERE seq <= ?", (seq,))
            self._bytes -= int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
