"""The ``switchboard`` command line."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from switchboard import __version__
from switchboard.client_cli import add_client_commands
from switchboard.compose import serve
from switchboard.config import SERVE_OPTIONS, add_options, resolve
from switchboard.exceptions import SwitchboardError
from switchboard.remote_agent.command import add_agent_command
from switchboard.scripted_model import Script, ScriptedModelServer
from switchboard.stop_signals import hold_stop_signals, wait_for_stop_signal


def _serve(args: argparse.Namespace) -> int:
    return serve(resolve(args))


def _scripted_model(args: argparse.Namespace) -> int:
    script = Script.from_file(args.script) if args.script else Script()
    hold_stop_signals()  # before the server's threads start
    server = ScriptedModelServer(script, host=args.host, port=args.port).start()
    print(f"Scripted model listening on {server.url} ({len(script.turns)} turns)", flush=True)
    try:
        wait_for_stop_signal()
    finally:
        server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Run Claude Code for your projects over WebSocket."
    )
    parser.add_argument("--version", action="version", version=f"switchboard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the server")
    add_options(serve, SERVE_OPTIONS)
    serve.set_defaults(handler=_serve)

    model = commands.add_parser(
        "scripted-model", help="run a scripted stand-in for the Anthropic Messages API"
    )
    model.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    model.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    model.add_argument("--script", type=Path, help="JSON script file (see docs/scripted-model.md)")
    model.set_defaults(handler=_scripted_model)
    add_client_commands(commands)
    add_agent_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (SwitchboardError, ValidationError, OSError) as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
