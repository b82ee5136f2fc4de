"""The server on either database: a second server on a store one already serves is
refused at start, with the reason, and the first goes on serving."""

from pathlib import Path

import pytest

from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support import databases
from tests.support.hub import connect


async def test_a_second_server_on_the_same_store_is_refused(
    servers: ServerFactory, database_kind: str, tmp_path: Path, project_dir: Path
) -> None:
    first_data = tmp_path / "first"
    first = servers.start(FAKE_AGENT, "--data-dir", str(first_data), record_spawns=False)
    url = databases.database_url(database_kind, first_data)
    with pytest.raises(RuntimeError, match="server did not start") as refused:
        servers.start(
            FAKE_AGENT,
            *("--data-dir", str(tmp_path / "second"), "--database-url", url),
            record_spawns=False,
        )
    assert "another Switchboard server is using" in str(refused.value)
    async with await connect(first) as client:
        added = await client.add_project(str(project_dir), name="still")
        assert added["name"] == "still"
