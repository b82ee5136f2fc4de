"""A network namespace of its own for a remote agent, joined to this one by a veth pair,
so that a test can cut the agent's network silently (no FIN, no RST: packets just stop)
and restore it. Needs root and ``ip``; :func:`namespace_problem` says why not when a
test must skip.

The hub stays on 127.0.0.1; a forwarder that listens only on this end of the veth pair
(:func:`tests.support.proxy.holding_proxy` with ``host``) lets the agent reach it.
"""

import contextlib
import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

_numbers = itertools.count(1)


@dataclass(frozen=True)
class AgentNamespace:
    name: str
    host_ip: str
    """This end of the veth pair: where the agent reaches the hub's forwarder."""
    inner_link: str

    def exec_prefix(self) -> tuple[str, ...]:
        """Run a command inside the namespace."""
        return ("ip", "netns", "exec", self.name)

    def cut(self) -> None:
        """The agent's network goes dark: its link goes down, nothing gets through."""
        _ip("netns", "exec", self.name, "ip", "link", "set", self.inner_link, "down")

    def restore(self) -> None:
        _ip("netns", "exec", self.name, "ip", "link", "set", self.inner_link, "up")


def namespace_problem() -> str | None:
    """Why a namespace cannot be made here (None: it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing"
    try:
        with agent_namespace():
            return None
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"ip netns failed: {exc}"


@contextlib.contextmanager
def agent_namespace() -> Iterator[AgentNamespace]:
    """A fresh namespace with a veth pair to this one (10.213.N.1 here, .2 there)."""
    number = next(_numbers) % 250
    tag = f"{os.getpid() % 100000}x{number}"
    name, outer, inner = f"sbtest{tag}", f"sbh{tag}", f"sba{tag}"
    host_ip, agent_ip = f"10.213.{number}.1", f"10.213.{number}.2"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", outer)
        _ip("link", "set", outer, "up")
        inside = ("netns", "exec", name, "ip")
        _ip(*inside, "addr", "add", f"{agent_ip}/30", "dev", inner)
        _ip(*inside, "link", "set", inner, "up")
        _ip(*inside, "link", "set", "lo", "up")
        yield AgentNamespace(name, host_ip, inner)
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", outer)  # takes its peer with it
        _ip("netns", "del", name)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)
