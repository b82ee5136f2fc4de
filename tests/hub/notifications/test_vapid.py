"""The VAPID key: made once, mode 0600, read back the same; a broken file stops the server."""

import base64
import stat
from pathlib import Path

import pytest

from switchboard.exceptions import ConfigError
from switchboard.hub.notifications.vapid import VAPID_KEY_FILE, load_or_create_vapid


def test_the_key_is_made_once_kept_private_and_read_back(tmp_path: Path) -> None:
    keys, created = load_or_create_vapid(tmp_path / "data")
    assert created
    path = tmp_path / "data" / VAPID_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    point = base64.urlsafe_b64decode(keys.public_key + "=")
    assert len(point) == 65 and point[0] == 4
    again, created = load_or_create_vapid(tmp_path / "data")
    assert not created and again.public_key == keys.public_key
    assert [p.name for p in (tmp_path / "data").iterdir()] == [VAPID_KEY_FILE]  # no temp left


def test_a_file_that_holds_no_p256_key_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / VAPID_KEY_FILE
    path.write_text("not a key\n")
    with pytest.raises(ConfigError) as refused:
        load_or_create_vapid(tmp_path)
    assert "delete it to have a new key made" in str(refused.value)
    assert path.read_text() == "not a key\n"
