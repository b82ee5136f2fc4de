"""``switchboard agent --server URL --token TOKEN [--name NAME] [--allowed-root DIR …]``."""

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from switchboard.agents.claude.driver import ClaudeDriver, ClaudeSettings
from switchboard.agents.claude.launch import DEFAULT_MAX_LINE_BYTES
from switchboard.agents.containment import MODES
from switchboard.exceptions import ConfigError
from switchboard.remote_agent.link import AgentConfig, LinkRefused, addresses, run_agent
from switchboard.remote_agent.processes import LocalProcesses
from switchboard.remote_agent.spool import Spool

TOKEN_ENV = "SWITCHBOARD_AGENT_TOKEN"  # noqa: S105 (a variable name, not a secret)
SERVER_ENV = "SWITCHBOARD_SERVER"
SPOOL_FILE = "spool.sqlite"
PROCESSES_FILE = "processes.sqlite"
"""The CLIs the agent runs, so that its next start stops those a crash left."""
SPOOL_MAX_BYTES = 256 * 1024 * 1024


def add_agent_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    agent = commands.add_parser(
        "agent",
        help="link this machine to a hub, as a remote agent (dials out; no inbound port)",
        description="Link this machine to a Switchboard hub as a remote agent. It dials "
        "out to the hub's /ws/agent, keeps the link up with heartbeats, and dials again "
        "whenever the link drops, until stopped (SIGINT, SIGTERM).",
    )
    agent.add_argument(
        "--server",
        help="the hub's address, e.g. https://hub:9876; a cluster's nodes comma-separated, "
        f"each tried in turn (https://a:9876,https://b:9876) [env: {SERVER_ENV}]",
    )
    agent.add_argument(
        "--token",
        help=f"an agent token (switchboard token create NAME --scope agent) [env: {TOKEN_ENV}; "
        "prefer it: a token on the command line shows in 'ps']",
    )
    agent.add_argument(
        "--name", help="the agent's name; must be its token's (default: the token's)"
    )
    agent.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where the agent keeps its spool (output the hub has not acknowledged yet); "
        "default $XDG_DATA_HOME/switchboard-agent or ~/.local/share/switchboard-agent",
    )
    agent.add_argument(
        "--spool-max-bytes",
        type=int,
        default=SPOOL_MAX_BYTES,
        help=f"the most the spool keeps while the hub is away; past it, runs are stopped "
        f"(default {SPOOL_MAX_BYTES})",
    )
    agent.add_argument(
        "--claude-bin",
        help="the Claude Code CLI to run (default: SWITCHBOARD_CLAUDE_BIN, then 'claude' "
        "on PATH, then the one bundled with claude-agent-sdk)",
    )
    agent.add_argument(
        "--process-containment",
        choices=MODES,
        default="auto",
        help="how the CLIs and everything they start are kept findable, to be stopped: "
        "cgroup (cgroup v2, where the agent may create cgroups), marker (an environment "
        "variable), or auto (cgroup where it works, else marker) (default auto)",
    )
    agent.add_argument(
        "--allowed-root",
        action="append",
        type=Path,
        default=None,
        help="directory projects on this machine must be or lie under (repeatable; default: $HOME)",
    )
    agent.set_defaults(handler=agent_command)


def default_agent_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/switchboard-agent``, else ``~/.local/share/switchboard-agent``."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "switchboard-agent"


def config_from(args: argparse.Namespace) -> AgentConfig:
    server = args.server or os.environ.get(SERVER_ENV)
    token = args.token or os.environ.get(TOKEN_ENV)
    if not server:
        raise ConfigError(f"give the hub's address: --server URL (or {SERVER_ENV})")
    try:
        addresses(server)
    except ValueError as exc:
        raise ConfigError(f"--server: {exc}") from None
    if not token:
        raise ConfigError(f"give an agent token: --token TOKEN (or {TOKEN_ENV})")
    roots = args.allowed_root or [Path(os.environ.get("HOME") or Path.home())]
    driver = ClaudeDriver(
        ClaudeSettings(
            claude_bin=args.claude_bin,
            env=dict(os.environ),
            max_line_bytes=DEFAULT_MAX_LINE_BYTES,  # longer lines than the link carries
            # to the hub go as an error in their place (remote_agent/host.py)
            partial_messages=True,
        )
    )
    data_dir = args.data_dir or default_agent_dir(os.environ)
    return AgentConfig(
        server=server,
        token=token,
        driver=driver,
        spool=Spool(data_dir / SPOOL_FILE, args.spool_max_bytes),
        name=args.name,
        allowed_roots=tuple(root.expanduser().resolve() for root in roots),
        processes=LocalProcesses(data_dir / PROCESSES_FILE),
        containment=args.process_containment,
    )


def agent_command(args: argparse.Namespace) -> int:
    config = config_from(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        asyncio.run(_until_stopped(config))
    except LinkRefused as exc:
        print(f"switchboard agent: {exc}", file=sys.stderr)
        return 2
    return 0


async def _until_stopped(config: AgentConfig) -> None:
    """Run the link until SIGINT or SIGTERM (handled even when SIGINT came ignored)."""
    linked = asyncio.ensure_future(run_agent(config))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, linked.cancel)
    try:
        await linked
    except asyncio.CancelledError:
        return
