"""The emulator's webhook signing key: read once per key file, read again once rewritten."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from config import SENDGRID_DEV_KEY_FILE
from sandbox.sendgrid_signing import private_key


def _public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_the_key_is_read_once_per_file(tmp_path: Path) -> None:
    first = private_key(tmp_path)  # created on first use
    assert private_key(tmp_path) is first  # not parsed again


def test_a_rewritten_key_file_is_read_again(tmp_path: Path) -> None:
    first = private_key(tmp_path)
    path = tmp_path / SENDGRID_DEV_KEY_FILE
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    written = path.stat().st_mtime_ns + 1_000_000
    os.utime(path, ns=(written, written))  # a later write, whatever the clock's resolution
    assert _public(private_key(tmp_path)) == _public(other) != _public(first)
