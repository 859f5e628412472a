"""How the sandbox signs SendGrid Event Webhook deliveries, with the development key pair that
`config` generates once into `var/` (it is a development credential like the others)."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from config import SENDGRID_DEV_KEY_FILE, sendgrid_dev_private_key, sendgrid_dev_public_key_b64


def private_key(var_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The emulator's signing key, read once per key file (loading the PEM cost 4 ms of every
    batch); a key file written again (a new var dir at the same path) is read again."""
    path = Path(var_dir) / SENDGRID_DEV_KEY_FILE
    if not path.exists():
        sendgrid_dev_private_key(var_dir)  # creates it
    return _loaded(Path(var_dir), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _loaded(var_dir: Path, written: int) -> ec.EllipticCurvePrivateKey:  # noqa: ARG001 - key
    return sendgrid_dev_private_key(var_dir)


def public_key_b64(var_dir: Path) -> str:
    """The verification key as SendGrid's settings page shows it (base64 DER SPKI)."""
    return sendgrid_dev_public_key_b64(var_dir)


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    """Base64 DER ECDSA/SHA-256 signature over `timestamp + payload`, as SendGrid signs."""
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()
