"""/ws: the ``connected`` snapshot lists the permission modes the server accepts
(clients such as the web UI build their mode menus from it), and it accepts exactly
those."""

from pathlib import Path
from typing import get_args

import pytest

from switchboard.client import RequestError
from switchboard.protocol.messages import PermissionMode
from tests.conftest import FAKE_AGENT, ServerFactory
from tests.support.hub import connect

pytestmark = pytest.mark.timeout(120)

ALL_MODES = list(get_args(PermissionMode))


@pytest.mark.parametrize("allow_bypass", [False, True])
async def test_the_snapshot_lists_the_modes_the_server_accepts(
    servers: ServerFactory, project_dir: Path, allow_bypass: bool
) -> None:
    flag = "true" if allow_bypass else "false"
    server = servers.start(FAKE_AGENT, "--allow-bypass-permissions", flag, record_spawns=False)
    async with await connect(server) as client:
        modes = client.snapshot["permission_modes"]
        project = await client.add_project(str(project_dir))
        for mode in ALL_MODES:
            if mode in modes:
                ack = await client.request("permission_mode.set", project=project["id"], mode=mode)
                assert ack["project"]["permission_mode"] == mode
            else:
                with pytest.raises(RequestError, match="permission_mode_not_allowed"):
                    await client.request("permission_mode.set", project=project["id"], mode=mode)
    expected = [m for m in ALL_MODES if allow_bypass or m != "bypassPermissions"]
    assert modes == expected
    assert ("bypassPermissions" in modes) is allow_bypass
