"""eBay Marketplace Account Deletion notifications: the endpoint challenge, the
X-EBAY-SIGNATURE check (ECDSA with SHA1, key fetched from the Notification API and cached) and
the notification envelope read into our own `AccountDeletion`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pydantic import BaseModel, Field

from adapters.ebay import SERVICE, parse_error
from adapters.errors import (
    AuthenticationError,
    PermanentError,
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


class NotificationVerifier:
    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._base = settings.ebay_api_url
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._tokens = TokenCache(self._fetch_app_token, margin=300)
        self._keys: dict[str, tuple[ec.EllipticCurvePublicKey, str, float]] = {}
        self._lock = threading.Lock()
        self.key_fetches = 0

    def verify(self, body: bytes, signature_header: str) -> bool:
        """True when the header's signature matches the raw body. A malformed header is
        False; failing to fetch the key raises (the caller answers 5xx so eBay retries)."""
        try:
            header = json.loads(base64.b64decode(signature_header, validate=True))
            kid, signature = str(header["kid"]), base64.b64decode(header["signature"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return False
        if str(header.get("alg", "ECDSA")).upper() != "ECDSA":
            return False
        key, digest = self._public_key(kid)
        algorithm = DIGESTS.get(str(header.get("digest") or digest).upper())
        if algorithm is None:
            return False
        try:
            key.verify(signature, body, ec.ECDSA(algorithm()))
        except InvalidSignature:
            return False
        return True

    def _public_key(self, kid: str) -> tuple[ec.EllipticCurvePublicKey, str]:
        with self._lock:
            cached = self._keys.get(kid)
            if cached and cached[2] > time.time():
                return cached[0], cached[1]
        response = call_json(
            self._http,
            SERVICE,
            "GET",
            f"{self._base}/commerce/notification/v1/public_key/{kid}",
            tokens=self._tokens,
            parse_error=parse_error,
            expected=(200,),
        )
        body = response.json()
        key = _load_key(body["key"])
        with self._lock:
            self.key_fetches += 1
            self._keys[kid] = (key, str(body.get("digest", "SHA1")), time.time() + KEY_TTL_SECONDS)
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
