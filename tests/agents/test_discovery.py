import os
import stat
from pathlib import Path

import pytest

from switchboard.agents.claude import discovery
from switchboard.agents.claude.discovery import ENV_VAR, find_claude
from switchboard.exceptions import ClaudeNotFoundError


def fake_binary(directory: Path, name: str = "claude") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\necho 1.0.0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_explicit_setting_wins(tmp_path: Path) -> None:
    explicit = fake_binary(tmp_path / "a", "my-claude")
    on_path = fake_binary(tmp_path / "b")
    env = {ENV_VAR: str(on_path), "PATH": str(on_path.parent)}
    assert find_claude(str(explicit), env) == explicit


def test_environment_variable_comes_second(tmp_path: Path) -> None:
    from_env = fake_binary(tmp_path / "a", "env-claude")
    on_path = fake_binary(tmp_path / "b")
    assert find_claude(None, {ENV_VAR: str(from_env), "PATH": str(on_path.parent)}) == from_env


def test_path_comes_third(tmp_path: Path) -> None:
    on_path = fake_binary(tmp_path / "b")
    assert find_claude(None, {"PATH": str(on_path.parent)}) == on_path


def test_bundled_binary_comes_last(tmp_path: Path) -> None:
    bundled = discovery.bundled_claude()
    assert bundled is not None, "the test extra installs claude-agent-sdk"
    assert find_claude(None, {"PATH": str(tmp_path)}) == bundled
    assert bundled.name == "claude" and "_bundled" in bundled.parts


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_binary(tmp_path / "bin")
    monkeypatch.chdir(tmp_path)
    found = find_claude("bin/claude", {})
    assert found.is_absolute() and found == tmp_path / "bin" / "claude"


@pytest.mark.parametrize("origin", ["explicit", "env"])
def test_a_named_binary_that_does_not_exist_is_an_error(tmp_path: Path, origin: str) -> None:
    missing = str(tmp_path / "nope")
    explicit, env = (missing, {}) if origin == "explicit" else (None, {ENV_VAR: missing})
    with pytest.raises(ClaudeNotFoundError, match="not an executable file"):
        find_claude(explicit, env)


def test_nothing_found_names_all_four_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discovery, "bundled_claude", lambda: None)
    with pytest.raises(ClaudeNotFoundError) as error:
        find_claude(None, {"PATH": str(tmp_path)})
    message = str(error.value)
    for place in ("--claude-bin", ENV_VAR, "'claude' on PATH", "claude-agent-sdk"):
        assert place in message


def test_non_executable_file_is_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "claude"
    path.write_text("not executable")
    os.chmod(path, 0o644)
    with pytest.raises(ClaudeNotFoundError):
        find_claude(str(path), {})
