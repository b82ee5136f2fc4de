"""Keep every process a CLI starts where it can be found and stopped, ``setsid()`` or not.

A CLI's process group is not enough: Claude Code runs each Bash command in a session
of its own (checked with 2.1.197 and 2.1.330), and a daemon that double-forks leaves any
session it was in. Each CLI therefore gets a :class:`Confinement`, by one of two
mechanisms, chosen once per server by :func:`open_containment`:

- **cgroup** (cgroup v2, where the server can create cgroups under its own): the CLI
  starts in ``<the server's cgroup>/switchboard-<PID>-<instance>/cli-<n>`` (a Python
  launcher joins it, then execs the CLI, so not even its first child is born outside),
  and everything it starts is born there too; leaving takes write access to a cgroup
  above it. Stopped with ``cgroup.kill`` (Linux 5.14), else by signalling its members.
- **marker**: the CLI's environment holds ``SWB_RUN_MARKER=<instance>:<n>``, which its
  descendants inherit; they are found by reading ``/proc/*/environ``. A process that
  clears or replaces its environment (``env -i``, a daemon that resets it), or whose
  environment the server may not read (another user, a non-dumpable process), escapes.

The marker is set in both cases, and recorded, so the next server finds them after a
crash either way. Its name does not start with ``SWITCHBOARD_``: that prefix is the
server's settings (``SWITCHBOARD_<OPTION>``), which ``build_env`` keeps from the CLI and
its tools; nor with ``CLAUDE_`` or ``ANTHROPIC_``, which test environments drop.
"""

import asyncio
import contextlib
import errno
import itertools
import logging
import os
import select
import shutil
import signal
import sys
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from switchboard.exceptions import ConfigError

log = logging.getLogger(__name__)

MARKER_VARIABLE = "SWB_RUN_MARKER"
INSTANCE_PREFIX = "switchboard-"
"""Name of a server instance's cgroup, under the server's own:
``switchboard-<the server's PID>-<instance>`` (the PID tells whether it is abandoned)."""
MODES = ("auto", "cgroup", "marker")
PROBE_SECONDS = 10.0
KILL_ROUNDS = 20
"""Without ``cgroup.kill``: how many rounds of SIGKILL to the members, against forks."""

JOIN_AND_EXEC = """\
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"0")
os.close(fd)
if len(sys.argv) > 2:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        sys.stderr.write(f"could not start {sys.argv[2]}: {exc.strerror}\\n")
        os._exit(127)
"""
"""The launcher: joins the cgroup whose ``cgroup.procs`` is argv[1], then becomes argv[2:]
(same PID). Without a command, it only joins and exits (the probe at start)."""


# -- /proc -----------------------------------------------------------------------------


def _pids() -> Iterator[int]:
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            yield int(entry.name)


def parent_of(pid: int) -> int | None:
    """The parent's PID (field 4 of ``/proc/PID/stat``), or None if ``pid`` is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[1])


def _has_entry(environ: bytes, entry: bytes) -> bool:
    return environ.startswith(entry + b"\0") or b"\0" + entry + b"\0" in environ


def carries(pid: int, entry: bytes) -> bool:
    """Whether ``pid``'s environment holds ``entry`` (``NAME=value``); False if unreadable."""
    try:
        return _has_entry(Path(f"/proc/{pid}/environ").read_bytes(), entry)
    except OSError:
        return False


def marked_processes(entry: bytes) -> list[int]:
    """Every process (but this one) whose environment holds ``entry``. Zombies have
    none left, so they never count."""
    me = os.getpid()
    return [pid for pid in _pids() if pid != me and carries(pid, entry)]


def signal_if(pid: int, sig: int, still_ours: Callable[[int], bool]) -> bool:
    """Send ``sig`` to ``pid`` if ``still_ours(pid)`` holds once a pidfd pins it (so a
    PID reused since it was listed is never hit). True if it was sent."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # no pidfds (Linux < 5.3): a plain kill, checked just before
        if not still_ours(pid):
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            return True
        return False
    try:
        if not still_ours(pid):
            return False
        signal.pidfd_send_signal(pidfd, sig)
    except (ProcessLookupError, PermissionError):  # gone; or another user's (setuid)
        return False
    finally:
        os.close(pidfd)
    return True


def detached(members: Collection[int], parents: Mapping[int, int | None], root: int) -> list[int]:
    """Those of ``members`` that do not descend from ``root``: left behind, reparented
    away from it. ``parents`` maps a PID to its parent's, for the members and their
    ancestors (None: gone); a chain that leaves it, or loops, does not reach ``root``."""
    attached = {root}
    for pid in sorted(members):
        chain: list[int] = []
        current: int | None = pid
        while current is not None and current not in attached and current in parents:
            if current in chain:  # a cycle: PIDs reused while we read; not attached
                break
            chain.append(current)
            current = parents[current]
        if current in attached:
            attached.update(chain)
    return sorted(set(members) - attached)


def ancestry(pids: Collection[int], root: int) -> dict[int, int | None]:
    """PID → parent PID for ``pids`` and their ancestors, up to ``root`` or PID 1."""
    parents: dict[int, int | None] = {}
    for pid in pids:
        current: int | None = pid
        while current is not None and current > 1 and current != root and current not in parents:
            parents[current] = parent_of(current)
            current = parents[current]
    return parents


# -- cgroup v2 -------------------------------------------------------------------------


def _read_pids(path: Path) -> list[int]:
    try:
        return [int(line) for line in path.read_text().split()]
    except (OSError, ValueError):
        return []


def cgroup_members(cgroup: Path) -> list[int]:
    """The processes in ``cgroup`` and the cgroups below it (zombies are not listed)."""
    found: list[int] = []
    for directory, _subdirs, _files in os.walk(cgroup):
        found += _read_pids(Path(directory) / "cgroup.procs")
    return found


def cgroup_populated(cgroup: Path) -> bool:
    """Whether a live process is in ``cgroup`` or below it (``cgroup.events``)."""
    try:
        return "populated 1" in (cgroup / "cgroup.events").read_text()
    except OSError:
        return False


def _in_cgroup(cgroup: Path) -> Callable[[int], bool]:
    def check(pid: int) -> bool:
        return pid in cgroup_members(cgroup)

    return check


def kill_cgroup(cgroup: Path) -> int:
    """SIGKILL everything in ``cgroup`` and below; returns how many were listed first."""
    members = cgroup_members(cgroup)
    kill_file = cgroup / "cgroup.kill"
    if kill_file.exists():
        with contextlib.suppress(OSError):
            kill_file.write_text("1")
            return len(members)
    still_ours = _in_cgroup(cgroup)
    for _ in range(KILL_ROUNDS):  # members may fork between the listing and the kill
        pids = cgroup_members(cgroup)
        if not pids:
            break
        for pid in pids:
            signal_if(pid, signal.SIGKILL, still_ours)
    return len(members)


def remove_cgroup(cgroup: Path) -> bool:
    """Remove ``cgroup`` and the (empty) cgroups below it; False if one is still busy."""
    removed = True
    for directory, _subdirs, _files in os.walk(cgroup, topdown=False):
        try:
            os.rmdir(directory)
        except FileNotFoundError:
            continue
        except OSError:
            removed = False
    return removed


# -- one CLI ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confinement:
    """Where one CLI's processes are: those carrying its marker, or, with ``cgroup``, those
    in that cgroup (and below it)."""

    marker: str
    cgroup: Path | None = None

    @property
    def entry(self) -> bytes:
        return f"{MARKER_VARIABLE}={self.marker}".encode()

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv``, started inside the cgroup (if any) before it runs a single instruction."""
        if self.cgroup is None:
            return list(argv)
        procs = str(self.cgroup / "cgroup.procs")
        return [sys.executable, "-I", "-S", "-c", JOIN_AND_EXEC, procs, *argv]

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        return {**env, MARKER_VARIABLE: self.marker}

    def is_member(self, pid: int) -> bool:
        if self.cgroup is not None:
            return _in_cgroup(self.cgroup)(pid)
        return carries(pid, self.entry)

    def members(self) -> list[int]:
        """Its live processes."""
        if self.cgroup is not None:
            return cgroup_members(self.cgroup)
        return marked_processes(self.entry)

    def populated(self) -> bool:
        if self.cgroup is not None:
            return cgroup_populated(self.cgroup)
        return bool(self.members())

    def signal(self, sig: int, pids: Sequence[int] | None = None) -> int:
        """Send ``sig`` to its members (or to those of ``pids`` that still are members);
        returns how many got it. SIGKILL to all of a cgroup is one ``cgroup.kill``."""
        if pids is None and sig == signal.SIGKILL and self.cgroup is not None:
            return kill_cgroup(self.cgroup)
        targets = self.members() if pids is None else pids
        return sum(signal_if(pid, sig, self.is_member) for pid in targets)

    def detached_from(self, root: int) -> list[int]:
        """Its members that no longer descend from ``root`` (the CLI): daemons, jobs of
        a shell that has ended."""
        members = self.members()
        return detached(members, ancestry(members, root), root)

    def remove(self) -> bool:
        """Delete its cgroup (once empty); True if there is none left."""
        return self.cgroup is None or remove_cgroup(self.cgroup)


# -- one server ------------------------------------------------------------------------


class Containment:
    """Hands out one :class:`Confinement` per CLI a server instance starts."""

    def __init__(self, instance: str, root: Path | None = None) -> None:
        self.instance = instance
        self.root = root
        """This instance's cgroup (``…/switchboard-<instance>``), or None: markers only."""
        self._numbers = itertools.count(1)

    @property
    def mechanism(self) -> str:
        return "marker" if self.root is None else "cgroup"

    def confine(self) -> Confinement:
        number = next(self._numbers)
        marker = f"{self.instance}:{number}"
        if self.root is None:
            return Confinement(marker)
        leaf = self.root / f"cli-{number}"  # not its PID: it is created before the CLI
        try:
            leaf.mkdir()
        except OSError as exc:
            log.warning("could not create cgroup %s (%s); using the marker only", leaf, exc)
            return Confinement(marker)
        return Confinement(marker, leaf)

    def close(self) -> None:
        """Kill whatever is left in this instance's cgroups, and remove them."""
        if self.root is None or not self.root.exists():
            return
        survivors = cgroup_members(self.root)
        kill_cgroup(self.root)
        wait_exited(survivors, 2.0)
        if not remove_cgroup(self.root):
            log.warning("could not remove cgroup %s: still busy", self.root)


def wait_exited(pids: Sequence[int], timeout: float) -> None:
    """Wait (blocking, at most ``timeout`` s) until each of ``pids`` has exited (pidfds)."""
    fds = []
    for pid in pids:
        with contextlib.suppress(OSError):
            fds.append(os.pidfd_open(pid))
    try:
        deadline = time.monotonic() + timeout
        pending = list(fds)
        while pending and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select(pending, [], [], left)
            pending = [fd for fd in pending if fd not in ready]
    finally:
        for fd in fds:
            os.close(fd)


def own_cgroup() -> tuple[Path | None, str]:
    """This process's cgroup v2 directory, or None and why there is none."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError as exc:
        return None, f"cannot read /proc ({exc.strerror})"
    relative = next((line[3:] for line in lines if line.startswith("0::")), None)
    if relative is None:
        return None, "this process is in no cgroup v2 hierarchy"
    for mount in mounts:
        fields, _, kind = mount.partition(" - ")
        if not kind.startswith("cgroup2 "):
            continue
        root, point = fields.split()[3:5]
        point = point.replace("\\040", " ")
        below = relative[len(root) :] if relative.startswith(root) else relative
        path = Path(point) / below.lstrip("/")
        if os.getpid() in _read_pids(path / "cgroup.procs"):
            return path, ""
    return None, f"no mounted cgroup2 file system shows this process's cgroup {relative}"


async def _probe(cgroup: Path) -> str:
    """Start the launcher into ``cgroup``; '' if it could join, else why not."""
    try:
        probe = await asyncio.create_subprocess_exec(
            *Confinement("probe", cgroup).command([]),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        return f"cannot start {sys.executable}: {exc.strerror}"
    try:
        _, stderr = await asyncio.wait_for(probe.communicate(), PROBE_SECONDS)
    except TimeoutError:
        probe.kill()
        await probe.wait()
        return "the probe did not finish"
    if probe.returncode == 0:
        return ""
    lines = stderr.decode(errors="replace").strip().splitlines()
    return f"joining a cgroup failed: {lines[-1] if lines else probe.returncode}"


def sweep_abandoned(own: Path) -> list[Path]:
    """Remove the empty cgroups of servers that are gone (one SIGKILLed leaves its own,
    emptied by the next server on its data dir, but nothing else would remove it).
    Those with processes in them are left to that next server. Returns those removed."""
    removed = []
    for entry in own.glob(f"{INSTANCE_PREFIX}*"):
        owner = entry.name.removeprefix(INSTANCE_PREFIX).split("-", 1)[0]
        if not owner.isdigit() or Path(f"/proc/{owner}").exists() or cgroup_populated(entry):
            continue
        if remove_cgroup(entry):
            removed.append(entry)
    return removed


async def _instance_cgroup(instance: str) -> tuple[Path | None, str]:
    """Create this instance's cgroup under the server's own and check that a process
    can be started in a cgroup below it."""
    own, why = own_cgroup()
    if own is None:
        return None, why
    if not sys.executable:
        return None, "no Python interpreter to start the launcher with"
    sweep_abandoned(own)
    root = own / f"{INSTANCE_PREFIX}{os.getpid()}-{instance}"
    try:
        root.mkdir()
        (root / "probe").mkdir()
    except OSError as exc:
        remove_cgroup(root)
        return None, f"cannot create a cgroup under {own} ({exc.strerror or exc})"
    why = await _probe(root / "probe")
    if why:
        remove_cgroup(root)
        return None, why
    remove_cgroup(root / "probe")
    return root, ""


async def open_containment(instance: str, mode: str = "auto") -> Containment:
    """Choose the mechanism (``mode``: auto, cgroup or marker) and log it. With
    ``cgroup``, a server that cannot create one refuses to start."""
    if mode not in MODES:
        raise ConfigError(f"unknown process containment {mode!r}")
    if mode == "marker":
        root, why = None, "--process-containment marker"
    else:
        root, why = await _instance_cgroup(instance)
    if root is None and mode == "cgroup":
        raise ConfigError(f"--process-containment cgroup: {why}")
    if root is None:
        log.info("process containment: environment marker %s (no cgroup: %s)", MARKER_VARIABLE, why)
        return Containment(instance)
    how = "cgroup.kill" if (root / "cgroup.kill").exists() else "signals to its members"
    log.info("process containment: cgroup v2 %s (killed with %s)", root, how)
    return Containment(instance, root)


def stop_leftover(marker: str | None, cgroup: str | None) -> set[int]:
    """SIGKILL what a previous server's CLI left (its cgroup and its marked processes);
    returns the PIDs hit. Blocking: run it in a thread."""
    hit: set[int] = set()
    if marker:
        confinement = Confinement(marker)
        pids = confinement.members()
        hit.update(pid for pid in pids if signal_if(pid, signal.SIGKILL, confinement.is_member))
    if cgroup and Path(cgroup).is_dir():
        path = Path(cgroup)
        members = cgroup_members(path)
        kill_cgroup(path)
        hit.update(members)
        wait_exited(members, 2.0)
        remove_cgroup(path)
        if path.parent.name.startswith(INSTANCE_PREFIX):  # the old instance's, if empty
            with contextlib.suppress(OSError):
                path.parent.rmdir()
    return hit


def not_found(command: str, env: Mapping[str, str]) -> str | None:
    """Why ``command`` could not be executed with ``env``'s PATH, or None if it can."""
    if shutil.which(command, path=env.get("PATH", os.defpath)) is not None:
        return None
    return os.strerror(errno.EACCES if os.path.exists(command) else errno.ENOENT)
