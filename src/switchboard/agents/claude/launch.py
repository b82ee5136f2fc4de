"""How a Claude Code CLI process is started: its options, arguments and environment."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.agents.claude import mcp
from switchboard.agents.containment import Confinement

DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
"""The CLI prints whole tool results on one line; 16 MiB leaves room for big ones."""

# Not passed to the CLI: CLAUDECODE would make it think it runs inside another Claude
# Code; SWITCHBOARD_* holds our settings, the token among them, which the CLI's tools
# (and a prompt-injected command) have no business reading.
_STRIPPED_ENV = ("CLAUDECODE",)
_STRIPPED_PREFIXES = ("SWITCHBOARD_",)
ENTRYPOINT = "switchboard"
"""What the CLI records as the ``entrypoint`` of its sessions. Left unset, a piped CLI
records ``sdk-cli`` (so does ``cli``, which it rewrites), and the ``claude --resume``
picker leaves ``sdk-*`` sessions out; with this name (checked with 2.1.197 and 2.1.330)
a project's session can be opened in a terminal."""


@dataclass(frozen=True, slots=True)
class ClaudeOptions:
    """How to start the CLI for one process."""

    binary: Path
    cwd: Path
    env: Mapping[str, str]
    spawn_cwd: Path | None = None
    """Where the process is started when not at ``cwd`` itself: a path to the same
    directory that no swapped-in symlink can redirect (``/proc/self/fd/N``, see
    :func:`~switchboard.project_paths.directory_cwd`). ``PWD`` stays ``cwd``."""
    resume: str | None = None
    permission_prompt: bool = False
    """Route permission questions to us (``--permission-prompt-tool stdio``)."""
    partial_messages: bool = False
    permission_mode: str | None = None
    model: str | None = None
    extra_args: tuple[str, ...] = ()
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    stderr_limit: int = 64 * 1024
    extra_env: Mapping[str, str] = field(default_factory=dict)
    confinement: Confinement | None = None
    """Where every process of the CLI is kept (see :mod:`switchboard.agents.containment`);
    None: its process group only."""
    back_channel: bool = False
    """Serve Switchboard's tools (the ``switchboard`` MCP server) and register the hooks
    that report activity."""


def build_argv(options: ClaudeOptions) -> list[str]:
    """The CLI's argument vector: stream-json both ways, prompt on stdin."""
    argv = [str(options.binary), "--output-format", "stream-json", "--verbose"]
    if options.resume:
        argv.append(f"--resume={options.resume}")
    if options.permission_prompt:
        argv += ["--permission-prompt-tool", "stdio"]
    if options.permission_mode:
        argv += ["--permission-mode", options.permission_mode]
    if options.model:
        argv += ["--model", options.model]
    if options.partial_messages:
        argv.append("--include-partial-messages")
    if options.back_channel:
        argv += ["--mcp-config", mcp.mcp_config(), "--allowedTools", mcp.allowed_tools()]
    argv += options.extra_args
    argv += ["--input-format", "stream-json"]
    return argv


def build_env(options: ClaudeOptions) -> dict[str, str]:
    """The child's environment: ours, minus nesting markers, plus our entrypoint,
    ``extra_env`` and ``PWD``."""
    env = {
        k: v
        for k, v in options.env.items()
        if k not in _STRIPPED_ENV and not k.startswith(_STRIPPED_PREFIXES)
    }
    env["CLAUDE_CODE_ENTRYPOINT"] = ENTRYPOINT
    env.update(options.extra_env)
    env["PWD"] = str(options.cwd)
    return env
