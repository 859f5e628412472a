"""Argon2id password hashing (pwdlib) on a worker thread; timing-safe checks for unknown users."""

from __future__ import annotations

import functools
import secrets

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_passwords = PasswordHash((Argon2Hasher(),))
# Recovery codes carry 48 random bits, so the lighter OWASP-minimum Argon2 profile is enough and
# keeps checking ten slots fast.
_codes = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1),))


@functools.cache
def dummy_hash() -> str:
    """Verified against when the email is unknown, so both paths cost one Argon2 verification.
    Made on first use, not at import (an Argon2 hash is half a second of start-up); the API
    makes it in the background as it starts (`warm_up`)."""
    return PasswordHash((Argon2Hasher(),)).hash(secrets.token_urlsafe(16))  # as _passwords


async def warm_up() -> None:
    await anyio.to_thread.run_sync(dummy_hash)


MIN_PASSWORD_LENGTH = 12


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_passwords.hash, password)


def hash_password_sync(password: str) -> str:
    return _passwords.hash(password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(valid, new hash when the stored one uses outdated parameters)."""

    def check() -> tuple[bool, str | None]:
        target = password_hash or dummy_hash()
        try:
            valid, updated = _passwords.verify_and_update(password, target)
        except Exception:  # noqa: BLE001 - a malformed stored hash is a failed login, not a 500
            return False, None
        return (valid and password_hash is not None), updated

    return await anyio.to_thread.run_sync(check)


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def new_recovery_codes(count: int = 10) -> list[str]:
    """Ten codes like `3f9a-1c2b-77d0` (48 bits each), shown once."""
    codes = []
    for _ in range(count):
        raw = secrets.token_hex(6)
        codes.append(f"{raw[0:4]}-{raw[4:8]}-{raw[8:12]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    return code.strip().lower().replace(" ", "")


async def hash_recovery_codes(codes: list[str]) -> list[str | None]:
    def run() -> list[str | None]:
        return [_codes.hash(normalise_recovery_code(c)) for c in codes]

    return await anyio.to_thread.run_sync(run)


async def match_recovery_code(code: str, hashes: list[str | None]) -> int | None:
    """Index of the unused slot the code matches, or None."""
    normalised = normalise_recovery_code(code)

    def run() -> int | None:
        for index, stored in enumerate(hashes):
            if stored and _codes.verify(normalised, stored):
                return index
        return None

    return await anyio.to_thread.run_sync(run)
