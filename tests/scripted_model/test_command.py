"""`switchboard scripted-model --port P --script FILE`, driven by the real CLI."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ClaudeBinary


def test_command_serves_a_script_file_to_the_real_cli(
    tmp_path: Path, bundled_claude_bin: ClaudeBinary, project_dir: Path
) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [{"text": "Scripted over the command line."}]}))
    model = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "switchboard",
            "scripted-model",
            "--port",
            "0",
            "--script",
            str(script),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert model.stdout is not None
        banner = model.stdout.readline()
        assert banner.endswith("(1 turns)\n")
        url = banner.split()[4]
        home = tmp_path / "home"
        home.mkdir()
        env = {
            **os.environ,
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": "sk-test",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        cli = subprocess.run(
            [str(bundled_claude_bin.path), "-p", "hello", "--output-format", "json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=project_dir,
            timeout=60,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert json.loads(cli.stdout)["result"] == "Scripted over the command line."
        recorded = httpx.get(f"{url}/_scripted/requests", timeout=5).json()
        assert any("hello" in json.dumps(r["body"]) for r in recorded if r["conversation"])
    finally:
        model.send_signal(signal.SIGINT)
        assert model.wait(timeout=10) == 0
        if model.stdout:
            model.stdout.close()


def test_command_rejects_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "bad.json"
    script.write_text('{"turns": [{}]}')
    result = subprocess.run(
        [sys.executable, "-m", "switchboard", "scripted-model", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "needs blocks" in result.stderr
