"""Finding every process a CLI started, setsid() or not: markers, cgroups, real daemons."""

import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from switchboard.agents import containment as containment_module
from switchboard.agents.containment import (
    MARKER_VARIABLE,
    Confinement,
    Containment,
    ancestry,
    detached,
    marked_processes,
    open_containment,
    own_cgroup,
    signal_if,
    stop_leftover,
    sweep_abandoned,
)
from switchboard.exceptions import ConfigError
from tests.support.daemons import Daemons, cgroup_containment
from tests.support.processes import alive, wait_exited

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    with Daemons(tmp_path) as started:
        yield started


@pytest.fixture
async def cgroups() -> AsyncIterator[Containment]:
    containment = await cgroup_containment()
    if containment is None:
        pytest.skip("no cgroup v2 this server may create cgroups in")
    yield containment
    containment.close()


def run_marked(command: list[str], marker: str) -> None:
    env = {**os.environ, MARKER_VARIABLE: marker}
    subprocess.run(command, env=env, check=True, timeout=30)


def test_detached_lists_what_no_longer_descends_from_the_root() -> None:
    parents: dict[int, int | None] = {
        10: 1,  # the root (the CLI)
        11: 10,  # its child
        12: 11,  # a grandchild
        13: 50,  # under a process that is not a member (unreadable), but under the root
        50: 11,
        20: 1,  # a daemon, reparented to init
        21: 20,  # the daemon's child
        30: None,  # gone while we looked
        40: 41,  # a cycle (PIDs reused between reads): not attached
        41: 40,
    }
    members = [10, 11, 12, 13, 20, 21, 30, 40, 41]
    assert detached(members, parents, 10) == [20, 21, 30, 40, 41]
    assert detached([10], {10: 1}, 10) == []


def test_ancestry_follows_real_parents() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        chain = ancestry([child.pid], os.getppid())
        assert chain[child.pid] == os.getpid() and chain[os.getpid()] == os.getppid()
        assert os.getppid() not in chain  # it stops at the root
        assert detached([child.pid], chain, os.getpid()) == []
        assert detached([child.pid], chain, 999_999_999) == [child.pid]
    finally:
        child.kill()
        child.wait()


def test_a_daemon_is_found_by_the_marker_it_inherited(daemons: Daemons) -> None:
    marker = f"test-{uuid.uuid4().hex}:1"
    run_marked(daemons.command(), marker)
    daemon = daemons.pid()
    assert os.getsid(daemon) != os.getsid(0)  # in no session or group of ours
    assert os.getpgid(daemon) != os.getpgid(0)
    confinement = Confinement(marker)
    assert confinement.members() == [daemon]
    assert marked_processes(confinement.entry) == [daemon]
    assert Confinement(f"{marker}0").members() == []  # the whole value, not a prefix
    assert confinement.signal(signal.SIGTERM) == 1
    assert wait_exited([daemon], 10) == []
    assert not confinement.populated()


def test_a_daemon_that_clears_its_environment_escapes_the_marker(daemons: Daemons) -> None:
    """The documented limit of the marker mechanism (a cgroup has none such)."""
    marker = f"test-{uuid.uuid4().hex}:1"
    run_marked(daemons.command("daemon", "--clear-env"), marker)
    daemon = daemons.pid()
    assert alive(daemon)
    assert Confinement(marker).members() == []


def test_a_pid_that_is_no_longer_ours_is_not_signalled() -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert not signal_if(stranger.pid, signal.SIGKILL, lambda _pid: False)
        assert stranger.poll() is None
        assert signal_if(stranger.pid, signal.SIGKILL, lambda _pid: True)
        assert stranger.wait(10) == -signal.SIGKILL
    finally:
        stranger.kill()
        stranger.wait()


async def test_a_cgroup_holds_even_a_daemon_that_clears_its_environment(
    cgroups: Containment, daemons: Daemons
) -> None:
    confinement = cgroups.confine()
    assert confinement.cgroup is not None and confinement.cgroup.parent == cgroups.root
    subprocess.run(confinement.command(daemons.command("daemon", "--clear-env")), check=True)
    daemon = daemons.pid()
    assert confinement.members() == [daemon]  # the starter has exited; it alone is left
    assert confinement.is_member(daemon) and confinement.populated()
    assert confinement.signal(signal.SIGKILL) == 1  # cgroup.kill
    assert wait_exited([daemon], 10) == []
    assert confinement.remove()
    assert not confinement.cgroup.exists()


async def test_a_missing_command_in_a_cgroup_fails_with_status_127(cgroups: Containment) -> None:
    confinement = cgroups.confine()
    done = subprocess.run(
        confinement.command(["/nonexistent/claude"]), capture_output=True, check=False
    )
    assert done.returncode == 127
    assert b"could not start /nonexistent/claude: No such file or directory" in done.stderr
    assert confinement.remove()


async def test_closing_a_containment_kills_and_removes_its_cgroups(
    cgroups: Containment, daemons: Daemons
) -> None:
    confinement = cgroups.confine()
    subprocess.run(confinement.command(daemons.command()), check=True)
    daemon = daemons.pid()
    cgroups.close()
    assert wait_exited([daemon], 10) == []
    assert cgroups.root is not None and not cgroups.root.exists()


async def test_a_leftover_is_stopped_by_its_marker_and_its_cgroup(
    cgroups: Containment, daemons: Daemons
) -> None:
    in_cgroup = cgroups.confine()
    subprocess.run(in_cgroup.command(daemons.command("first", "--clear-env")), check=True)
    marked = cgroups.confine()
    run_marked(daemons.command("second"), marked.marker)  # started outside any cgroup
    first, second = daemons.pid("first"), daemons.pid("second")
    assert stop_leftover(None, str(in_cgroup.cgroup)) == {first}
    assert stop_leftover(marked.marker, None) == {second}
    assert wait_exited([first, second], 10) == []
    assert in_cgroup.cgroup is not None and not in_cgroup.cgroup.exists()


def test_this_process_is_listed_in_its_own_cgroup() -> None:
    path, why = own_cgroup()
    if path is None:
        pytest.skip(why)
    assert str(os.getpid()) in (path / "cgroup.procs").read_text().split()


async def test_the_mechanism_in_use_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.agents.containment")
    chosen = await open_containment("x" * 32, "marker")
    assert chosen.mechanism == "marker" and chosen.root is None
    assert "process containment: environment marker SWB_RUN_MARKER" in caplog.text
    auto = await open_containment(uuid.uuid4().hex, "auto")
    try:
        expected = "cgroup v2" if auto.mechanism == "cgroup" else "environment marker"
        assert caplog.text.count("process containment: ") == 2
        assert f"process containment: {expected}" in caplog.text
    finally:
        auto.close()


async def test_without_a_cgroup_the_cgroup_mode_refuses_and_auto_uses_the_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(containment_module, "own_cgroup", lambda: (None, "no cgroup here"))
    with pytest.raises(ConfigError, match="--process-containment cgroup: no cgroup here"):
        await open_containment(uuid.uuid4().hex, "cgroup")
    assert (await open_containment(uuid.uuid4().hex, "auto")).mechanism == "marker"


async def test_the_empty_cgroups_of_servers_that_are_gone_are_removed(
    cgroups: Containment, daemons: Daemons
) -> None:
    assert cgroups.root is not None
    assert cgroups.root.name.startswith(f"switchboard-{os.getpid()}-")
    own = cgroups.root.parent
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    abandoned = own / f"switchboard-{gone.pid}-{uuid.uuid4().hex}"
    (abandoned / "cli-1").mkdir(parents=True)
    busy = own / f"switchboard-{gone.pid}-{uuid.uuid4().hex}"
    (busy / "cli-1").mkdir(parents=True)
    confinement = Confinement("busy", busy / "cli-1")
    subprocess.run(confinement.command(daemons.command()), check=True)
    daemon = daemons.pid()
    try:
        removed = sweep_abandoned(own)
        assert abandoned in removed and not abandoned.exists()
        assert busy.exists() and cgroups.root.exists()  # left to its data dir's next server
        assert alive(daemon)
    finally:
        assert stop_leftover(None, str(confinement.cgroup)) == {daemon}
    assert not busy.exists()
