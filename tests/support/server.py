"""Run ``switchboard serve`` as a real subprocess on a free loopback port."""

import json
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

START_TIMEOUT = 30.0


@dataclass
class RunningServer:
    """A server process; ``url`` and ``token`` come from its start-up banner (the
    token from the web UI's link, the one place it is printed)."""

    process: subprocess.Popen[str]
    url: str
    token: str
    data_dir: Path
    log_path: Path
    extra: dict[str, Any] = field(default_factory=dict)
    banner: list[str] = field(default_factory=list)
    """The lines of its start-up banner read so far (the first three)."""

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)

    def claude_url(self, token: str | None = None) -> str:
        return f"{self.ws_url}/ws/claude?token={self.token if token is None else token}"

    def connect(self, token: str | None = None, **kwargs: Any) -> Any:
        """A websockets connect() context manager for /ws/claude."""
        return websockets.connect(self.claude_url(token), **kwargs)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, and wait for the exit code (SIGKILL if it does not come)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            if self.process.stdout:
                self.process.stdout.close()


SERVER_DEFAULT = "server default"
"""As ``allowed_root``: give no ``--allowed-root``, so that the server's own default
(its ``$HOME``) applies."""


def start_server(
    tmp: Path,
    env: Mapping[str, str],
    args: list[str] | None = None,
    *,
    allowed_root: Path | str | None = None,
    umask: int = -1,
) -> RunningServer:
    """Start a server with its own data dir under ``tmp``; returns once it listens.

    Projects may lie under ``allowed_root`` (default: ``tmp``, where tests keep them;
    :data:`SERVER_DEFAULT`: the server's ``$HOME``), unless ``args`` or ``env`` say
    otherwise. ``umask``: the server's (-1: ours)."""
    data_dir = tmp / "data"
    log_path = tmp / "server.log"
    roots: list[str] = []
    given = "--allowed-root" in (args or []) or "SWITCHBOARD_ALLOWED_ROOT" in env
    if allowed_root != SERVER_DEFAULT and not given:
        roots = ["--allowed-root", str(tmp if allowed_root is None else allowed_root)]
    argv = [
        sys.executable,
        "-m",
        "switchboard",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        *roots,
        *(args or []),
    ]
    log_file = log_path.open("w")
    process = subprocess.Popen(
        argv, env=dict(env), stdout=subprocess.PIPE, stderr=log_file, text=True, umask=umask
    )
    log_file.close()
    assert process.stdout is not None
    banner = [process.stdout.readline() for _ in range(3)]
    if not banner[0].startswith("Switchboard "):
        process.kill()
        process.wait()
        process.stdout.close()
        raise RuntimeError(f"server did not start: {banner!r}\n{log_path.read_text()}")
    url = banner[0].split()[-1]
    [token] = [line.split("#token=", 1)[1].strip() for line in banner if "#token=" in line]
    return RunningServer(process, url, token, data_dir, log_path, banner=banner)


@dataclass
class RunTranscript:
    """Everything one /ws/claude connection received."""

    frames: list[str]
    close_code: int | None
    close_reason: str

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(f) for f in self.frames]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "error" in m and "type" not in m]

    @property
    def result(self) -> dict[str, Any]:
        results = self.of_type("result")
        assert len(results) == 1, f"expected one result, got {self.frames}"
        return results[0]


async def collect(ws: ClientConnection) -> RunTranscript:
    """Read frames until the server closes the connection."""
    frames: list[str] = []
    try:
        async for frame in ws:
            assert isinstance(frame, str)
            frames.append(frame)
    except websockets.ConnectionClosed:
        pass
    return RunTranscript(frames, ws.close_code, ws.close_reason or "")


async def run_prompt(
    server: RunningServer, prompt: str, meta: str = "TASK-1", **connect: Any
) -> RunTranscript:
    """Connect, wait for the info frame, send one prompt, read to the close."""
    async with server.connect(**connect) as ws:
        info = json.loads(await ws.recv())
        assert info == {"info": "send {prompt,meta}"}
        await ws.send(json.dumps({"prompt": prompt, "meta": meta}))
        return await collect(ws)
