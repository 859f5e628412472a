"""Encryption of every Temporal payload (workflow inputs, results, signals, queries, memos,
activity arguments, failure details) with AES-256-GCM, so buyers' names, emails and addresses
never sit readable in Temporal's database, its web UI or an exported history.

The encoded payload is `metadata.encoding = "binary/encrypted"`, `metadata.encryption-key-id =
<id>`, `data = nonce(12) || ciphertext+tag` of the whole serialized original payload (its
metadata included). The first configured key encrypts; every configured key decrypts, so keys
rotate by putting a new one first and dropping an old one only after the namespace retention
has deleted every history written with it. Shape after Temporal's `samples-python/encryption`.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


def parse_keys(spec: str) -> dict[str, bytes]:
    """`"id1:base64key,id2:base64key"` -> {id: 32-byte key}, in order (first = active)."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id:
            raise ValueError("each key must be written 'key-id:base64-key'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"key {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
        if key_id in keys:
            raise ValueError(f"key id {key_id!r} appears twice")
        keys[key_id] = key
    if not keys:
        raise ValueError("no key configured")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        self.key_id, first = next(iter(keys.items()))
        self._encryptor = AESGCM(first)
        self._decryptors = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def from_spec(cls, spec: str) -> EncryptionCodec:
        return cls(parse_keys(spec))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._encryptor.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """Payloads that are not ours (e.g. written before encryption) pass through as they
        are; an unknown key id is an error (the key was dropped too early)."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        decryptor = self._decryptors.get(key_id)
        if decryptor is None:
            raise ValueError(f"payload encrypted with unknown key id {key_id!r}")
        data = decryptor.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], None)
        return Payload.FromString(data)
