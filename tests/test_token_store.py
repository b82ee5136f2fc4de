import stat
from pathlib import Path

import pytest

from switchboard.token_store import load_or_create_token, new_token


def test_generated_once_stored_0600_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token, created = load_or_create_token(data, None)
    assert created and len(token) >= 40
    path = data / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token
    assert load_or_create_token(data, None) == (token, False)


def test_explicit_token_is_used_and_never_written(tmp_path: Path) -> None:
    assert load_or_create_token(tmp_path / "data", "given") == ("given", False)
    assert not (tmp_path / "data" / "token").exists()


def test_empty_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    (tmp_path / "token").unlink()
    token, created = load_or_create_token(tmp_path, None)
    assert created and token


def test_blank_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("  \n")
    token, created = load_or_create_token(tmp_path, None)
    assert created and token
    assert (tmp_path / "token").read_text().strip() == token
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token"]  # no temp file left


def test_existing_token_wins_over_a_new_one(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("first\n")
    assert load_or_create_token(tmp_path, None) == ("first", False)


def test_generated_tokens_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--token -abc`` would be read as a flag: the generator draws again instead."""
    draws = iter(["-first", "second"])
    monkeypatch.setattr("secrets.token_urlsafe", lambda _n: next(draws))
    assert new_token() == "second"
