"""The server's VAPID key pair (RFC 8292): made once, kept in the data dir.

Push services accept a push for a browser only when it is signed with the key the
browser subscribed with (the ``applicationServerKey``): a new key means every browser
must subscribe again. So the key is generated at the first start and kept in
``DATA_DIR/vapid_private.pem`` (PKCS#8 PEM, mode 0600, written whole before it
appears); a file that holds no P-256 private key stops the server with a clear message
rather than being replaced behind the operator's back.
"""

import base64
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from switchboard.exceptions import ConfigError

VAPID_KEY_FILE = "vapid_private.pem"


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """The public key as browsers take it: the uncompressed point, base64url."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def load_or_create_vapid(data_dir: Path) -> tuple[VapidKeys, bool]:
    """The key pair kept in ``data_dir``, made now if there is none; ``(keys, created)``."""
    path = data_dir / VAPID_KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return _read(path), False
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temp = data_dir / f".{VAPID_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)  # appears only if absent, and only complete
        except FileExistsError:
            return _read(path), False
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return VapidKeys(key), True


def _read(path: Path) -> VapidKeys:
    data = path.read_bytes()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(_unusable(path, f"it holds no readable private key ({exc})")) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(_unusable(path, "its key is not a P-256 (secp256r1) key"))
    return VapidKeys(key)


def _unusable(path: Path, why: str) -> str:
    return (
        f"{path} cannot be used as the Web Push (VAPID) key: {why}. Restore it, or delete "
        "it to have a new key made (every browser must then turn push on again)."
    )
