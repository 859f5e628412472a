"""How the sandbox signs SendGrid Event Webhook deliveries, with the development key pair that
`config` generates once into `var/` (it is a development credential like the others)."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from config import sendgrid_dev_private_key, sendgrid_dev_public_key_b64


def private_key(var_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The emulator's signing key."""
    return sendgrid_dev_private_key(var_dir)


def public_key_b64(var_dir: Path) -> str:
    """The verification key as SendGrid's settings page shows it (base64 DER SPKI)."""
    return sendgrid_dev_public_key_b64(var_dir)


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    """Base64 DER ECDSA/SHA-256 signature over `timestamp + payload`, as SendGrid signs."""
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()
