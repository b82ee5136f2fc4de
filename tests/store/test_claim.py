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


@pytest.mark.postgresql_only
def test_the_nodes_of_a_cluster_share_a_store_each_node_id_once(store_url: str) -> None:
    engines = [open_engine(store_url) for _ in range(4)]
    try:
        a = claim_database(engines[0], "a")
        b = claim_database(engines[1], "b")  # another node: welcome
        with pytest.raises(StoreError, match="node 'a' is running"):
            claim_database(engines[2], "a")
        with pytest.raises(StoreError, match="another Switchboard server is using"):
            claim_database(engines[3])  # a single server: not while nodes run
        a()
        b()
        solo = claim_database(engines[3])
        with pytest.raises(StoreError, match="without --node-id"):
            claim_database(engines[2], "a")  # and no node while it runs
        solo()
        claim_database(engines[2], "a")()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_node_needs_postgresql(tmp_path: Path) -> None:
    engine = open_engine(databases.database_url("sqlite", tmp_path))
    try:
        with pytest.raises(StoreError, match="share a PostgreSQL store"):
            claim_database(engine, "a")
    finally:
        engine.dispose()
