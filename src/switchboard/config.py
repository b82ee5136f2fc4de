"""Settings of ``switchboard serve``: one table feeds the flags, the environment and the docs.

Every option ``--some-name`` can also be given as ``SWITCHBOARD_SOME_NAME``. A flag
beats the environment, which beats the default. List options take a repeated flag or a
comma-separated environment value.
"""

import argparse
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from switchboard.exceptions import ConfigError


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/switchboard``, else ``~/.local/share/switchboard``."""
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "switchboard"


DEMO_PROJECT_DIR = "demo-project"
"""The ``--demo`` project's directory, under the data dir."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 9876
    data_dir: Path = Path()
    token: str | None = None
    claude_bin: str | None = None
    run_timeout: float = 300.0
    prompt_timeout: float = 60.0
    workdir: Path = Path()
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    max_message_bytes: int = 1024 * 1024
    max_line_bytes: int = 16 * 1024 * 1024
    kill_grace: float = 0.5
    log_level: str = "info"
    max_concurrent_runs: int = 4
    max_queued_runs: int = 16
    idle_timeout: float = 300.0
    background_timeout: float = 3600.0
    interrupt_grace: float = 5.0
    allowed_roots: tuple[Path, ...] = ()
    subscriber_queue_bytes: int = 4 * 1024 * 1024
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    partial_messages: bool = True
    ws_compression: bool = False
    permission_timeout: float = 600.0
    question_timeout: float = 600.0
    plan_timeout: float = 600.0
    allow_bypass_permissions: bool = False
    on_confirmation: tuple[str, ...] = ()
    demo: bool = False
    claude_env: Mapping[str, str] | None = None
    """The environment CLI runs get (before Switchboard's own changes); None: the server's.
    Not an option: ``--demo`` sets it to point the CLI at its scripted model."""


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be 0..65535 (0 picks a free port)")
    return value


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _command(text: str) -> tuple[str, ...]:
    argv = tuple(shlex.split(text))
    if not argv:
        raise ValueError("must name a command")
    return argv


def _log_level(text: str) -> str:
    if text.lower() not in {"debug", "info", "warning", "error"}:
        raise ValueError("must be debug, info, warning or error")
    return text.lower()


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag, its environment variable, how to parse it, what it means."""

    name: str
    parse: Callable[[str], Any]
    help: str
    multiple: bool = False
    switch: bool = False
    """A flag without a value (``--demo`` means true); its variable still takes one."""

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def env_var(self) -> str:
        return "SWITCHBOARD_" + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


SERVE_OPTIONS: tuple[Option, ...] = (
    Option("host", str, "Address to bind. Default 127.0.0.1 (this machine only)."),
    Option("port", _port, "Port to listen on. Default 9876; 0 picks a free port."),
    Option(
        "data-dir",
        Path,
        "Where the token and state live. Default "
        "$XDG_DATA_HOME/switchboard or ~/.local/share/switchboard.",
    ),
    Option(
        "token",
        str,
        "API token clients must present. Default: generated at first "
        "start and stored in DATA_DIR/token (mode 0600).",
    ),
    Option(
        "claude-bin",
        str,
        "Claude Code CLI to run. Default: SWITCHBOARD_CLAUDE_BIN, "
        "then 'claude' on PATH, then the binary bundled with claude-agent-sdk.",
    ),
    Option(
        "run-timeout",
        _positive_float,
        "Seconds a run may take before its process group is killed. Default 300.",
    ),
    Option(
        "prompt-timeout",
        _positive_float,
        "Seconds a /ws/claude connection may wait before sending its prompt. Default 60.",
    ),
    Option(
        "workdir",
        Path,
        "Working directory of /ws/claude runs. Default: the directory the server was started in.",
    ),
    Option(
        "allowed-origin",
        str,
        "Extra WebSocket Origin allowed besides same-origin (repeatable; '*' allows any).",
        multiple=True,
    ),
    Option(
        "allowed-host",
        str,
        "Extra Host header name accepted besides the bind "
        "address and loopback names (repeatable; '*' disables the check).",
        multiple=True,
    ),
    Option(
        "max-message-bytes",
        _positive_int,
        "Largest WebSocket message accepted from a client. Default 1048576.",
    ),
    Option(
        "max-line-bytes",
        _positive_int,
        "Longest CLI output line passed on; longer lines are reported as errors. Default 16777216.",
    ),
    Option(
        "kill-grace",
        _positive_float,
        "Seconds between SIGTERM and SIGKILL when a run's process group is stopped. Default 0.5.",
    ),
    Option("log-level", _log_level, "debug, info, warning or error. Default info."),
    Option(
        "max-concurrent-runs",
        _positive_int,
        "Runs executing at once across all projects (one per project at most). Default 4.",
    ),
    Option(
        "max-queued-runs",
        _positive_int,
        "Runs waiting in one project's queue; more prompts get 'queue_full'. Default 16.",
    ),
    Option(
        "idle-timeout",
        _positive_float,
        "Seconds a project's CLI process stays up without a run. Default 300.",
    ),
    Option(
        "background-timeout",
        _positive_float,
        "Seconds a project's CLI process is kept without a run while it reports background "
        "work (commands, agents, wake-ups) that would die with it. Default 3600.",
    ),
    Option(
        "interrupt-grace",
        _positive_float,
        "Seconds a cancelled run's CLI gets to stop its turn before its group is killed. "
        "Default 5.",
    ),
    Option(
        "allowed-root",
        Path,
        "Directory projects must lie under (repeatable). Default: anywhere.",
        multiple=True,
    ),
    Option(
        "subscriber-queue-bytes",
        _positive_int,
        "Bytes queued for one /ws client before it is closed as a slow consumer "
        "(4008). Default 4194304.",
    ),
    Option(
        "ping-interval",
        _positive_float,
        "Seconds between WebSocket pings to each client. Default 20.",
    ),
    Option(
        "ping-timeout",
        _positive_float,
        "Seconds a client may take to answer a ping before it is dropped. Default 20.",
    ),
    Option(
        "partial-messages",
        _boolean,
        "Stream token deltas live to /ws subscribers (never stored). Default true.",
    ),
    Option(
        "ws-compression",
        _boolean,
        "Offer permessage-deflate to WebSocket clients: less bandwidth, but every frame "
        "is compressed once per client. Default false.",
    ),
    Option(
        "permission-timeout",
        _positive_float,
        "Seconds a tool-permission confirmation waits for an answer before it is denied. "
        "Default 600.",
    ),
    Option(
        "question-timeout",
        _positive_float,
        "Seconds a question (AskUserQuestion) waits for an answer. Default 600.",
    ),
    Option(
        "plan-timeout",
        _positive_float,
        "Seconds a plan approval (ExitPlanMode) waits for an answer. Default 600.",
    ),
    Option(
        "allow-bypass-permissions",
        _boolean,
        "Let prompts ask for permission_mode bypassPermissions (tools run without any "
        "confirmation). Default false: such prompts are refused.",
    ),
    Option(
        "on-confirmation",
        _command,
        "Command run (no shell) for every new confirmation, its JSON on stdin: for desktop "
        "notifications or sounds. Failures are logged, never block. Default: none.",
    ),
    Option(
        "demo",
        _boolean,
        "Offline demo: run the CLI against a built-in scripted model, with its own data "
        "dir (default $XDG_DATA_HOME/switchboard-demo) and a project named 'demo'.",
        switch=True,
    ),
)

_DEST_TO_FIELD = {
    "allowed_origin": "allowed_origins",
    "allowed_host": "allowed_hosts",
    "allowed_root": "allowed_roots",
}


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    """Register ``options`` on ``parser``; values are parsed later by :func:`resolve`."""
    for option in options:
        described = f"{option.help} [env: {option.env_var}]"
        if option.switch:
            parser.add_argument(
                option.flag, dest=option.dest, action="store_const", const="true", help=described
            )
            continue
        parser.add_argument(
            option.flag,
            dest=option.dest,
            action="append" if option.multiple else "store",
            default=None,
            help=described,
        )


def _parse(option: Option, origin: str, text: str) -> Any:
    try:
        return option.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{origin}: invalid value {text!r} ({exc})") from exc


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Combine flags, environment and defaults into :class:`Settings`."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for option in SERVE_OPTIONS:
        given = getattr(args, option.dest, None)
        if given is not None:
            raw: list[str] = given if option.multiple else [given]
            origin = option.flag
        elif env.get(option.env_var):
            text = env[option.env_var]
            raw = [p.strip() for p in text.split(",") if p.strip()] if option.multiple else [text]
            origin = option.env_var
        else:
            continue
        parsed = [_parse(option, origin, item) for item in raw]
        values[_DEST_TO_FIELD.get(option.dest, option.dest)] = (
            tuple(parsed) if option.multiple else parsed[0]
        )
    if values.get("demo"):  # its own state, and /ws/claude runs in its project
        values.setdefault("data_dir", default_data_dir(env).with_name("switchboard-demo"))
        values.setdefault("workdir", values["data_dir"] / DEMO_PROJECT_DIR)
    values.setdefault("data_dir", default_data_dir(env))
    values.setdefault("workdir", Path.cwd())
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})
