"""eBay Marketplace Account Deletion notifications: the endpoint challenge, the
X-EBAY-SIGNATURE check (ECDSA with SHA1, key fetched from the Notification API and cached) and
the notification envelope read into our own `AccountDeletion`.

The endpoint is public, so the key id (`kid`) in a signature header is attacker-chosen. Before
any outbound call it must look like a key id; it is escaped into the URL path; a kid eBay does
not know is remembered (no second fetch for it); a failed fetch is remembered briefly (503s
without refetching); and fetches are serialised and budgeted per minute, so forged notifications
cannot turn the endpoint into an amplifier of authenticated calls to eBay."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import quote

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pydantic import BaseModel, Field

from adapters.ebay import SERVICE, parse_error
from adapters.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RetryableError,
    classify_status,
    from_transport_error,
    retry_after_seconds,
)
from adapters.http import DEFAULT_TIMEOUT, TokenCache, call_json
from config import Settings

APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
KEY_TTL_SECONDS = 3600  # eBay's SDKs cache a public key for an hour
DIGESTS = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}  # noqa: S303 - eBay signs with SHA1
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"
KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""eBay's key ids are hex or UUID-like; anything else is refused without a fetch."""
UNKNOWN_KID_SECONDS = 600  # eBay answered 404: do not ask again for ten minutes
FAILED_FETCH_SECONDS = 30  # eBay or the network failed: answer 503 without refetching for 30 s
FETCHES_PER_MINUTE = 10
MAX_CACHED_KEYS = 256


class ChallengeResponse(BaseModel):
    """The body eBay expects back from the endpoint validation GET."""

    challengeResponse: str  # noqa: N815 - eBay's field name


class AccountDeletion(BaseModel):
    """A buyer asked eBay to delete their account: forget their personal data."""

    notification_id: str
    username: str = Field(default="", max_length=200)
    user_id: str = Field(default="", max_length=200)


def parse_account_deletion(body: bytes) -> AccountDeletion:
    """The notification in a signed POST body; ValueError when it is not one."""
    try:
        notification = json.loads(body)["notification"]
        data = notification.get("data") or {}
        return AccountDeletion(
            notification_id=str(notification["notificationId"]),
            username=data.get("username", ""),
            user_id=data.get("userId", ""),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an account deletion notification: {exc}") from exc


def challenge_response(challenge_code: str, verification_token: str, endpoint_url: str) -> str:
    """The answer to eBay's `GET ?challenge_code=`: hex SHA-256 of code + token + endpoint."""
    digest = hashlib.sha256()
    digest.update(challenge_code.encode())
    digest.update(verification_token.encode())
    digest.update(endpoint_url.encode())
    return digest.hexdigest()


def _load_key(text: str) -> ec.EllipticCurvePublicKey:
    """eBay returns the PEM markers around base64 DER on one line; accept either layout."""
    b64 = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", text)
    key = load_der_public_key(base64.b64decode(b64))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise PermanentError(SERVICE, "notification public key is not an EC key")
    return key


def _trim(cache: OrderedDict[str, Any]) -> None:
    """Oldest entries out: forged key ids cannot grow the caches without bound."""
    while len(cache) > MAX_CACHED_KEYS:
        cache.popitem(last=False)


class NotificationVerifier:
    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._base = settings.ebay_api_url
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._tokens = TokenCache(self._fetch_app_token, margin=300)
        self._keys: OrderedDict[str, tuple[ec.EllipticCurvePublicKey, str, float]] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()  # kid -> until
        self._failed_until = 0.0
        self._fetch_times: list[float] = []
        self._lock = threading.Lock()
        self._fetch_lock = threading.Lock()  # one outbound fetch at a time
        self.key_fetches = 0
        self.fetch_attempts = 0

    def verify(self, body: bytes, signature_header: str) -> bool:
        """True when the header's signature matches the raw body. A malformed header, a
        malformed or unknown key id are False; failing to fetch the key raises RetryableError
        (the caller answers 5xx so eBay retries)."""
        if len(signature_header) > 4096:
            return False
        try:
            header = json.loads(base64.b64decode(signature_header, validate=True))
            kid, signature = header["kid"], base64.b64decode(header["signature"])
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
            return False
        if not isinstance(kid, str) or not KID.fullmatch(kid):
            return False
        if str(header.get("alg", "ECDSA")).upper() != "ECDSA":
            return False
        try:
            key, digest = self._public_key(kid)
        except NotFoundError:
            return False  # no such key at eBay: a forged notification
        algorithm = DIGESTS.get(str(header.get("digest") or digest).upper())
        if algorithm is None:
            return False
        try:
            key.verify(signature, body, ec.ECDSA(algorithm()))
        except InvalidSignature:
            return False
        return True

    def _cached(self, kid: str) -> tuple[ec.EllipticCurvePublicKey, str] | None:
        """The cached key, or None; raises what a recent fetch for it ended with."""
        now = time.time()
        with self._lock:
            cached = self._keys.get(kid)
            if cached and cached[2] > now:
                return cached[0], cached[1]
            if self._unknown.get(kid, 0.0) > now:
                raise NotFoundError(SERVICE, f"no public key {kid} (remembered)", status=404)
            if self._failed_until > now:
                raise RetryableError(SERVICE, "eBay's key service failed moments ago")
        return None

    def _public_key(self, kid: str) -> tuple[ec.EllipticCurvePublicKey, str]:
        if (cached := self._cached(kid)) is not None:
            return cached
        with self._fetch_lock:
            if (cached := self._cached(kid)) is not None:  # fetched while we waited
                return cached
            self._spend_fetch_budget()
            try:
                key, digest = self._fetch(kid)
            except NotFoundError:
                with self._lock:
                    self._unknown[kid] = time.time() + UNKNOWN_KID_SECONDS
                    _trim(self._unknown)
                raise
            except Exception as exc:
                with self._lock:
                    self._failed_until = time.time() + FAILED_FETCH_SECONDS
                if isinstance(exc, RetryableError | PermanentError):
                    raise
                raise RetryableError(SERVICE, f"public key fetch failed: {exc}") from exc
            with self._lock:
                self._keys[kid] = (key, digest, time.time() + KEY_TTL_SECONDS)
                _trim(self._keys)
            return key, digest

    def _spend_fetch_budget(self) -> None:
        now = time.time()
        with self._lock:
            self._fetch_times = [t for t in self._fetch_times if t > now - 60]
            if len(self._fetch_times) >= FETCHES_PER_MINUTE:
                raise RetryableError(SERVICE, "public key fetch budget spent for this minute")
            self._fetch_times.append(now)
            self.fetch_attempts += 1

    def _fetch(self, kid: str) -> tuple[ec.EllipticCurvePublicKey, str]:
        response = call_json(
            self._http,
            SERVICE,
            "GET",
            f"{self._base}/commerce/notification/v1/public_key/{quote(kid, safe='')}",
            tokens=self._tokens,
            parse_error=parse_error,
            expected=(200,),
        )
        body = response.json()
        key = _load_key(body["key"])
        with self._lock:
            self.key_fetches += 1
        return key, str(body.get("digest", "SHA1"))

    def _fetch_app_token(self) -> tuple[str, float]:
        """client_credentials grant: an application token (the Notification API needs one)."""
        basic = base64.b64encode(
            f"{self._settings.ebay_client_id}:"
            f"{self._settings.ebay_client_secret.get_secret_value()}".encode()
        ).decode()
        try:
            response = self._http.post(
                f"{self._base}/identity/v1/oauth2/token",
                headers={
                    "Authorization": f"Basic {basic}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                data={"grant_type": "client_credentials", "scope": APP_SCOPE},
            )
        except httpx.TransportError as exc:
            raise from_transport_error(SERVICE, exc) from exc
        if response.status_code != 200:
            try:
                message, code, details = parse_error(response)
            except (ValueError, KeyError, TypeError):
                message, code, details = response.text[:500], None, None
            if response.status_code in (400, 401):
                raise AuthenticationError(SERVICE, message, status=response.status_code, code=code)
            raise classify_status(
                SERVICE,
                response.status_code,
                message,
                code=code,
                retry_after=retry_after_seconds(response),
                details=details,
            )
        body = response.json()
        return body["access_token"], float(body.get("expires_in", 7200))


__all__ = [
    "AccountDeletion",
    "ChallengeResponse",
    "NotificationVerifier",
    "challenge_response",
    "parse_account_deletion",
]
