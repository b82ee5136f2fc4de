"""One server per store: a second claim on the same store is refused until the first is
given back; another store can be claimed meanwhile. On SQLite and on PostgreSQL."""

from pathlib import Path

import pytest

from switchboard.exceptions import StoreError
from switchboard.store.sqlite.claim import claim_database
from switchboard.store.sqlite.database import open_engine
from tests.support import databases


def test_a_store_is_claimed_once_at_a_time(
    store_url: str, database_kind: str, tmp_path: Path
) -> None:
    (tmp_path / "other").mkdir()
    first, second = open_engine(store_url), open_engine(store_url)  # two servers
    elsewhere = open_engine(databases.database_url(database_kind, tmp_path / "other"))
    try:
        release = claim_database(first)
        with pytest.raises(StoreError, match="another Switchboard server is using"):
            claim_database(second)
        claim_database(elsewhere)()  # another store is free
        release()
        release()  # idempotent
        claim_database(second)()  # given back: the next server may have it
    finally:
        for engine in (first, second, elsewhere):
            engine.dispose()
