"""The sandbox's SendGrid Event Webhook key pair (ECDSA P-256), generated once into `var/`.

Kept free of heavy imports: `config.py` reads the public key from here for development defaults.
SendGrid shows the public key as base64 DER (SubjectPublicKeyInfo) without PEM armour, which is
what `EventWebhook(public_key)` expects, so that is the form returned here.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_FILE = "sendgrid-webhook-key.pem"


def private_key(var_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The emulator's signing key; created on first use (exclusive create, so racing processes
    end up sharing the first writer's key)."""
    path = Path(var_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key")
    return key


def public_key_b64(var_dir: Path) -> str:
    """The verification key as SendGrid's settings page shows it (base64 DER SPKI)."""
    der = (
        private_key(var_dir)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, payload: bytes) -> str:
    """Base64 DER ECDSA/SHA-256 signature over `timestamp + payload`, as SendGrid signs."""
    signature = key.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()
