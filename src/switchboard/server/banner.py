"""What ``switchboard serve`` prints on start, after the line with its URL: the web
UI's link, the only place the token is printed (a click opens the UI, which keeps the
token and drops it from the address bar); where the token comes from; and a client
command that finds this server."""

import os
from pathlib import Path

from switchboard.config import Settings, default_data_dir
from switchboard.program import command_line
from switchboard.token_store import TOKEN_FILE


def token_origin(settings: Settings, created: bool) -> str:
    if settings.token:
        return "given by --token / SWITCHBOARD_TOKEN"
    verb = "generated and stored in" if created else "read from"
    return f"{verb} {settings.data_dir / TOKEN_FILE}"


def client_command(settings: Settings) -> str:
    """A command that lists this server's projects from another terminal: the data dir
    holds the token and the server's address (named unless it is the default one)."""
    args = ["projects"]
    if Path(settings.data_dir).resolve() != default_data_dir(os.environ).resolve():
        args += ["--data-dir", str(settings.data_dir)]
    line = command_line(*args)
    return f"{line} (with the same token)" if settings.token else line


def banner_lines(settings: Settings, url: str, token: str, created: bool) -> list[str]:
    return [
        f"Web UI: {url}/#token={token}",
        f"Token {token_origin(settings, created)} (it is in the link above)",
        f"Client commands: {client_command(settings)}",
    ]
