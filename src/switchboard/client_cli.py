"""Client commands of ``switchboard``: they talk to a running server over ``/ws``.

Exit codes: 0 success (``prompt``: the run completed), 1 the run failed, 2 usage or
connection error, 3 the server refused the request, 4 the run was cancelled, 5 the
run was interrupted by a server stop.
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from pathlib import Path
from typing import Any, TextIO

from websockets.exceptions import InvalidHandshake, InvalidStatus

from switchboard.back_channel_lines import activity_line
from switchboard.client import ConnectionLost, RequestError, SwitchboardClient
from switchboard.client_confirmations import ConfirmationAnswerer
from switchboard.client_export import export_log
from switchboard.config import default_data_dir
from switchboard.event_lines import describe, printable, run_summary
from switchboard.exceptions import ConfigError
from switchboard.program import program
from switchboard.protocol.close_codes import CloseCode
from switchboard.server_record import recorded_url
from switchboard.token_store import TOKEN_FILE

DEFAULT_SERVER = "http://127.0.0.1:9876"
Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]
EXIT_BY_STATE = {"completed": 0, "failed": 1, "cancelled": 4, "interrupted": 5}
REFUSED = 3
RESUMABLE_CLOSES = {CloseCode.SLOW_CONSUMER, CloseCode.GOING_AWAY, 1006, 1012, 1013}
"""Close codes after which ``prompt`` and ``tail`` reconnect and resume (1006: the
connection dropped without a close frame; 1012: service restart; 1013: try again
later)."""
RECONNECT_SECONDS = 60.0
FIRST_RECONNECT_DELAY = 0.5
MAX_RECONNECT_DELAY = 10.0


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        default=None,
        help="Server URL [env: SWITCHBOARD_URL; default: the server running with DATA_DIR, "
        f"else {DEFAULT_SERVER}]",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="API token [env: SWITCHBOARD_TOKEN; default: read from DATA_DIR/token]",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="The server's data dir, where to find its token and address "
        "[env: SWITCHBOARD_DATA_DIR]",
    )


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(
        args.data_dir or os.environ.get("SWITCHBOARD_DATA_DIR") or default_data_dir(os.environ)
    )


def _server(args: argparse.Namespace) -> str:
    """``--server``, else ``SWITCHBOARD_URL``, else the address a running server
    recorded in the data dir, else the default."""
    given = args.server or os.environ.get("SWITCHBOARD_URL")
    return str(given or recorded_url(_data_dir(args)) or DEFAULT_SERVER)


def _token(args: argparse.Namespace) -> str:
    if args.token or os.environ.get("SWITCHBOARD_TOKEN"):
        return str(args.token or os.environ["SWITCHBOARD_TOKEN"])
    path = _data_dir(args) / TOKEN_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"no token given and none readable at {path}: {exc}") from exc


class ServerAway(ConfigError):
    """The server could not be reached, or its handshake failed in a way that passes
    (a proxy answering 5xx while the server restarts): worth trying again."""


async def _connect(args: argparse.Namespace) -> SwitchboardClient:
    server = _server(args)
    try:
        return await SwitchboardClient.connect(server, _token(args))
    except OSError as exc:
        raise ServerAway(f"cannot connect to {server}: {exc}") from exc
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise ServerAway(f"cannot connect to {server}: HTTP {status}") from exc
        refused = (
            " (wrong token?)" if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN) else ""
        )
        raise ConfigError(f"{server} refused the connection: HTTP {status}{refused}") from exc
    except InvalidHandshake as exc:
        raise ServerAway(f"cannot connect to {server}: {exc}") from exc


def _resumable(exc: ConnectionLost) -> bool:
    """Lost in a way worth coming back from: closed as a slow consumer, the server
    stopping or restarting, or the connection dropped without a close."""
    return exc.close_code in RESUMABLE_CLOSES


class Reconnector:
    """Reconnects after a lost connection, backing off (0.5 s doubling to 10 s) for as
    long as no event arrives in between, and giving up after ``RECONNECT_SECONDS``
    without one: a server that accepts and drops again cannot make it spin."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.delay = FIRST_RECONNECT_DELAY
        self.since_progress: float | None = None

    def progress(self) -> None:
        """An event arrived: the next loss starts the backoff afresh."""
        self.delay = FIRST_RECONNECT_DELAY
        self.since_progress = None

    async def reconnect(self, lost: ConnectionLost) -> SwitchboardClient:
        loop = asyncio.get_running_loop()
        if self.since_progress is None:
            self.since_progress = loop.time()
        print(f"switchboard: {lost}; reconnecting", file=sys.stderr)
        while True:
            if loop.time() + self.delay - self.since_progress > RECONNECT_SECONDS:
                raise ConfigError(f"gave up reconnecting after {RECONNECT_SECONDS:g} s")
            await asyncio.sleep(self.delay)
            self.delay = min(2 * self.delay, MAX_RECONNECT_DELAY)
            with contextlib.suppress(ServerAway):
                return await _connect(self.args)


def _run(command: Command, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(command(args))
    except RequestError as exc:
        print(f"switchboard: {exc.message} ({exc.code})", file=sys.stderr)
        return REFUSED
    except ConnectionLost as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _print_projects(projects: list[dict[str, Any]], out: TextIO) -> None:
    if not projects:
        print(f"no projects (add one: {program()} project add PATH)", file=out)
        return
    rows = [("NAME", "STATUS", "QUEUED", "EVENTS", "ID", "PATH")]
    rows += [
        (p["name"], p["status"], str(p["queued"]), str(p["head"]), p["id"], p["path"])
        for p in projects
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]), file=out)


async def projects_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        _print_projects(await client.projects(), sys.stdout)
    return 0


def _project_path(args: argparse.Namespace) -> str:
    """A path here is relative to where the command runs; one on an agent is its own."""
    return str(args.path) if args.agent else os.path.abspath(args.path)


async def project_add_command(args: argparse.Namespace) -> int:
    path = _project_path(args)
    async with await _connect(args) as client:
        project = await client.add_project(path, args.name, args.agent)
        where = f" on the agent {args.agent}" if args.agent else ""
        print(f"added {project['name']} ({project['id']}) at {project['path']}{where}")
        if args.session:
            await client.use_session(project["id"], args.session)
            print(f"its runs resume session {args.session}, whose history was imported")
    return 0


async def project_sessions_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        if args.use:
            project = await client.use_session(args.project, args.use)
            print(f"{project['name']} now resumes session {args.use}")
            return 0
        sessions = await client.sessions(args.project)
    if not sessions:
        print("claude has stored no session for this project's directory")
    for session in sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(session["updated_at"]))
        mark = "*" if session["current"] else " "
        print(f"{mark} {session['id']}  {when}  {session['first_prompt'] or ''}")
    return 0


async def project_remove_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        project = await client.remove_project(args.project)
    print(f"removed {project['name']} and its history")
    return 0


PERSON_ROLES = ("viewer", "operator", "admin")


async def token_create_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        ack = await client.request(
            "token.create", name=args.name, scope=args.scope, projects=args.project or None
        )
    token = ack["token"]
    if token["scope"] == "agent":
        where = f"the agent machine {token['name']!r}: switchboard agent --token ..."
    elif token["scope"] in PERSON_ROLES:
        where = "a person, on every project"
    else:
        where = ", ".join(token["projects"]) if token["projects"] else "every project"
    print(f"created token {token['id']} ({token['name']}, scope {token['scope']}, for {where})")
    print("its secret, shown only now:", file=sys.stderr)
    print(ack["secret"])
    return 0


async def token_list_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        tokens = (await client.request("token.list"))["tokens"]
    if not tokens:
        print(f"no scoped tokens (create one: {program()} token create NAME)")
    for token in tokens:
        where = ",".join(token["projects"]) if token["projects"] else "*"
        print(f"{token['id']}  {token['name']}  {token['scope']}  {where}")
    return 0


async def audit_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        ack = await client.request("audit.list", project=args.project, limit=args.limit)
    for entry in reversed(ack["audit"]):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["at"]))
        about = f" [{entry['project']}]" if entry["project"] else ""
        print(f"{when}  {entry['by']}  {entry['action']}{about}  {json.dumps(entry['detail'])}")
    return 0


async def agents_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        agents = client.snapshot.get("agents") or []
    if not agents:
        print(f"no agents (create one: {program()} token create NAME --scope agent)")
    for agent in agents:
        seen = agent["last_seen"]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seen)) if seen else "never"
        state = "online" if agent["online"] else "offline"
        version = agent["version"] or "-"
        print(f"{agent['name']}  {state}  last seen {when}  version {version}")
    return 0


async def token_revoke_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        [token] = (await client.request("token.revoke", token=args.token_id))["tokens"]
    print(f"revoked {token['id']} ({token['name']}); its connections were closed")
    return 0


async def cancel_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        run = await client.cancel(args.project, args.run)
    print(f"cancelling run {run['id']} (was {run['state']})")
    return 0


async def answer_command(args: argparse.Namespace) -> int:
    async with await _connect(args) as client:
        await client.subscribe(args.project, since=_head(client, args.project))
        await client.answer(
            args.confirmation,
            args.response,
            message=args.message,
            remember=True if args.remember else None,
        )
    print(f"answered {args.confirmation}: {args.response}")
    return 0


async def prompt_command(args: argparse.Namespace) -> int:
    """Queue a prompt, print the run as it happens; Ctrl-C cancels the run. If the
    server closes the connection as a slow consumer, reconnect and resume after the
    last event seen."""
    async with await _connect(args) as client:
        # Only what follows matters here: history the server no longer keeps is no loss.
        since = await client.resume(args.project, _head(client, args.project))
        run = await client.prompt(
            args.project, args.text, model=args.model, permission_mode=args.permission_mode
        )
        # By id from here on: a project re-added under the same name is another one.
        options = _connection_options(args)
        answerer = ConfirmationAnswerer(args.project, options, sys.stdout, sys.stdin)
        follower = RunFollower(run["project"], run["id"], since, answerer)
        try:
            return await follower.follow(client)
        except ConnectionLost as exc:
            if not _resumable(exc):
                raise
            lost = exc
    reconnector = Reconnector(args)
    while True:
        async with await reconnector.reconnect(lost) as client:
            print(f"switchboard: resuming after event {follower.since}", file=sys.stderr)
            try:
                follower.since = await resume(client, follower.project, follower.since)
                return await follower.follow(client, reconnector.progress)
            except ConnectionLost as exc:
                if not _resumable(exc):
                    raise
                lost = exc


def _connection_options(args: argparse.Namespace) -> list[str]:
    """The connection options given on the command line, to repeat in the commands
    printed for the person to run; never the token (output may end up in a file)."""
    given = [("--server", args.server), ("--data-dir", args.data_dir)]
    return [f"{flag}={value}" for flag, value in given if value]


class RunFollower:
    """Prints one run's events and returns its exit code; remembers the last seq. The
    run's confirmations go to ``answerer`` (asked at a terminal, or how to answer)."""

    def __init__(
        self, project: str, run_id: str, since: int, answerer: ConfirmationAnswerer
    ) -> None:
        self.project = project
        self.run_id = run_id
        self.since = since
        self.answerer = answerer

    async def follow(
        self, client: SwitchboardClient, on_event: Callable[[], None] = lambda: None
    ) -> int:
        """Ctrl-C meanwhile cancels the run; once this returns or raises (the connection
        was lost), Ctrl-C is an ordinary interrupt again."""
        loop = asyncio.get_running_loop()
        cancelling: list[asyncio.Task[dict[str, Any]]] = []

        def cancel() -> None:
            print("switchboard: cancelling the run", file=sys.stderr)
            cancelling.append(loop.create_task(client.cancel(self.project, self.run_id)))

        asking = loop.create_task(self.answerer.run(client), name="switchboard-answerer")
        try:
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal.SIGINT, cancel)
            return await self._print_run(client, on_event)
        finally:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signal.SIGINT)
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionLost):
                await asking

    async def _print_run(self, client: SwitchboardClient, on_event: Callable[[], None]) -> int:
        async for message in client.messages():
            if message["type"] != "event":
                continue
            on_event()
            self.since = int(message["seq"])
            if message.get("run") != self.run_id:
                continue
            data = message["data"]
            if message["kind"] == "run" and data.get("state") in EXIT_BY_STATE:
                self.answerer.end_prompt_line()
                print(run_summary(data), file=sys.stderr)
                return EXIT_BY_STATE[data["state"]]
            lines = describe(message)
            if lines:
                self.answerer.end_prompt_line()
            for line in lines:
                print(line, flush=True)
            if message["kind"] == "confirmation":
                self.answerer.seen(data)
        return 2


async def resume(client: SwitchboardClient, project: str, since: int) -> int:
    """Subscribe after ``since``; if the server no longer keeps part of that history
    (retention), say so and go on from the oldest event it keeps. Returns the since used."""
    used = await client.resume(project, since)
    if used > since:
        print(
            f"switchboard: events {since + 1}-{used} of {project} are no longer kept "
            f"(retention); going on from {used + 1}",
            file=sys.stderr,
        )
    return used


def _head(client: SwitchboardClient, key: str) -> int:
    """The project's head seq from the connect snapshot (0 if unknown there)."""
    for project in client.snapshot.get("projects", []):
        if key in (project["id"], project["name"], project["path"]):
            return int(project["head"])
    return 0


async def tail_command(args: argparse.Namespace) -> int:
    """Print a project's events until interrupted; when the connection is lost (slow
    consumer, server restart, network), reconnect and resume after the last seq."""
    since: int | None = args.since
    lost: ConnectionLost | None = None
    reconnector = Reconnector(args)
    while True:
        connecting = _connect(args) if lost is None else reconnector.reconnect(lost)
        async with await connecting as client:
            if since is None:
                since = _head(client, args.project)
            elif lost is not None:
                print(f"switchboard: resuming after {since}", file=sys.stderr)
            try:
                since = await resume(client, args.project, since)
                async for message in client.messages():
                    if message["type"] == "event":
                        reconnector.progress()
                        since = int(message["seq"])
                        for line in describe(message):
                            print(f"{message['seq']:>6}  {line}", flush=True)
                    elif message["type"] == "activity":  # live only: no seq
                        print(f"{'':>6}  {printable(activity_line(message))}", flush=True)
            except ConnectionLost as exc:
                if not _resumable(exc):
                    raise
                lost = exc


async def export_command(args: argparse.Namespace) -> int:
    """A project's event log on stdout, one event per line (client_export.py)."""
    await export_log(_server(args), _token(args), args.project, args.since, sys.stdout.buffer)
    return 0


def add_client_commands(commands: Any) -> None:
    """Register the client commands on the ``switchboard`` subparsers."""

    def command(name: str, handler: Command, help: str) -> argparse.ArgumentParser:
        return _action(commands, name, handler, help)

    command("projects", projects_command, help="list projects and their status")
    prompt = command("prompt", prompt_command, help="run a prompt in a project and print it")
    prompt.add_argument("project", help="project name, id or path")
    prompt.add_argument("text", help="the prompt")
    prompt.add_argument("--model", default=None)
    prompt.add_argument("--permission-mode", default=None)
    tail = command("tail", tail_command, help="follow a project's events")
    tail.add_argument("project")
    tail.add_argument("--since", type=int, default=None, help="replay events after this seq")
    export = command("export", export_command, help="write a project's event log as JSON Lines")
    export.add_argument("project")
    export.add_argument("--since", type=int, default=0, help="only the events after this seq")
    answer = command("answer", answer_command, help="answer a pending confirmation")
    answer.add_argument("project")
    answer.add_argument("confirmation", help="the confirmation's id")
    answer.add_argument("response", help="one of its options: allow or deny, or a skill's own")
    answer.add_argument("--message", default=None, help="deny: the reason Claude is told")
    answer.add_argument(
        "--remember", action="store_true", help="allow: answer matching requests so from now on"
    )
    cancel = command("cancel", cancel_command, help="cancel a project's running (or a queued) run")
    cancel.add_argument("project")
    cancel.add_argument("--run", default=None, help="a queued or running run's id")

    project = commands.add_parser("project", help="add, list or remove projects")
    project_actions = project.add_subparsers(dest="action", required=True)
    add = _action(project_actions, "add", project_add_command, "register a directory as a project")
    add.add_argument("path", help="the directory (on the agent's machine with --agent)")
    add.add_argument("--name", default=None)
    add.add_argument(
        "--agent", default=None, help="the remote agent the directory is on (switchboard agents)"
    )
    add.add_argument(
        "--session",
        default=None,
        help="resume this Claude session (one the CLI stored for the directory, e.g. "
        "from a terminal) and import its history",
    )
    sessions = _action(
        project_actions,
        "sessions",
        project_sessions_command,
        "list the Claude sessions stored for a project's directory (* = its own)",
    )
    sessions.add_argument("project")
    sessions.add_argument("--use", metavar="ID", default=None, help="make this one the project's")
    _action(project_actions, "list", projects_command, "list projects")
    remove = _action(
        project_actions, "remove", project_remove_command, "forget a project and its history"
    )
    remove.add_argument("project")

    token = commands.add_parser(
        "token", help="create, list or revoke people's, producer and agent tokens"
    )
    token_actions = token.add_subparsers(dest="action", required=True)
    create = _action(
        token_actions,
        "create",
        token_create_command,
        "a person's token (viewer, operator, admin), a token that may only publish "
        "skills (produce), or one that links an agent machine (agent)",
    )
    create.add_argument(
        "name", help="who will use it (a person, the events' producer, or the agent's name)"
    )
    create.add_argument(
        "--scope", choices=("viewer", "operator", "admin", "produce", "agent"), default="produce"
    )
    create.add_argument("--project", action="append", help="limit it to this project (repeatable)")
    _action(token_actions, "list", token_list_command, "list scoped tokens")
    command("agents", agents_command, help="list the remote agents, online or not")
    audit = command("audit", audit_command, help="who prompted, answered or changed what")
    audit.add_argument("--project", help="only this project's entries")
    audit.add_argument("--limit", type=int, default=50, help="how many, newest (default 50)")
    revoke = _action(token_actions, "revoke", token_revoke_command, "revoke a scoped token")
    revoke.add_argument("token_id", metavar="ID", help="the token's id (token list)")


def _action(actions: Any, name: str, handler: Command, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = actions.add_parser(name, help=description)
    add_connection_options(parser)
    parser.set_defaults(handler=lambda args: _run(handler, args))
    return parser
