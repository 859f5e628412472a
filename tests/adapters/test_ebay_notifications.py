"""Marketplace Account Deletion: the endpoint challenge and the signature check, with the
emulator posting real signed notifications to a local endpoint."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.ebay_notifications import NotificationVerifier, challenge_response
from adapters.errors import RetryableError


class Receiver:
    """A tiny endpoint standing in for our webhook: records posts, answers challenges."""

    def __init__(self, verification_token: str) -> None:
        self.posts: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((body, self.headers.get("X-EBAY-SIGNATURE", "")))
                self.send_response(204)
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                code = parse_qs(urlparse(self.path).query)["challenge_code"][0]
                answer = challenge_response(code, verification_token, receiver.url)
                payload = json.dumps({"challengeResponse": answer}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/webhooks/ebay/account-deletion"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    r = Receiver(settings.ebay_verification_token.get_secret_value())
    yield r
    r.server.shutdown()


def _deletion(sandbox, receiver: Receiver, username: str = "gone_buyer") -> tuple[bytes, str]:
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/ebay/account-deletion",
        json={"username": username, "endpoint_url": receiver.url},
    )
    response.raise_for_status()
    assert response.json()["status"] == 204
    return receiver.posts[-1]


def test_challenge_response_is_sha256_of_code_token_endpoint():
    expected = hashlib.sha256(b"abc123" + b"tok" + b"https://x.example/hook").hexdigest()
    assert challenge_response("abc123", "tok", "https://x.example/hook") == expected
    assert challenge_response("abc124", "tok", "https://x.example/hook") != expected


def test_emulator_accepts_our_challenge_answer(clean_sandbox, receiver):
    response = httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/ebay/account-deletion/challenge",
        json={"endpoint_url": receiver.url},
    )
    assert response.json() == {"status": 200, "valid": True}


def test_signed_notification_verifies_and_key_is_cached(clean_sandbox, receiver, settings):
    body, header = _deletion(clean_sandbox, receiver)
    notification = json.loads(body)
    assert notification["metadata"]["topic"] == "MARKETPLACE_ACCOUNT_DELETION"
    assert notification["notification"]["data"]["username"] == "gone_buyer"
    verifier = NotificationVerifier(settings)
    assert verifier.verify(body, header)
    body2, header2 = _deletion(clean_sandbox, receiver, "another")
    assert verifier.verify(body2, header2)
    assert verifier.key_fetches == 1


def test_tampered_body_and_wrong_key_are_refused(clean_sandbox, receiver, settings):
    body, header = _deletion(clean_sandbox, receiver)
    verifier = NotificationVerifier(settings)
    assert not verifier.verify(body.replace(b"gone_buyer", b"other_user"), header)
    # Same key id, signed by a key that is not eBay's.
    claims = json.loads(base64.b64decode(header))
    forged = ec.generate_private_key(ec.SECP256R1()).sign(body, ec.ECDSA(hashes.SHA1()))
    claims["signature"] = base64.b64encode(forged).decode()
    assert not verifier.verify(body, base64.b64encode(json.dumps(claims).encode()).decode())
    assert not verifier.verify(body, "not-base64-json!")
    assert verifier.verify(body, header)


def _claims(kid: object) -> str:
    claims = {"alg": "ECDSA", "kid": kid, "signature": "AAAA", "digest": "SHA1"}
    return base64.b64encode(json.dumps(claims).encode()).decode()


def test_unknown_key_id_is_refused_and_remembered(clean_sandbox, settings):
    """Before: each forged notification naming an unknown kid cost an authenticated fetch from
    eBay and answered 503. Now: refused (False -> 412) and the kid is remembered."""
    verifier = NotificationVerifier(settings)
    for _ in range(3):
        assert verifier.verify(b"{}", _claims("no-such-key")) is False
    assert verifier.fetch_attempts == 1


def test_malformed_key_ids_never_reach_ebay(clean_sandbox, settings):
    verifier = NotificationVerifier(settings)
    for kid in ["../../identity/v1/oauth2/token", "a/b", "a%2Fb", "x" * 129, "", 7, ["k"], "k?x=1"]:
        assert verifier.verify(b"{}", _claims(kid)) is False
    assert verifier.verify(b"{}", "A" * 5000) is False
    assert verifier.fetch_attempts == 0


def test_key_fetches_are_budgeted(clean_sandbox, settings):
    from adapters.ebay_notifications import FETCHES_PER_MINUTE

    verifier = NotificationVerifier(settings)
    for index in range(FETCHES_PER_MINUTE):
        assert verifier.verify(b"{}", _claims(f"unknown-{index}")) is False
    with pytest.raises(RetryableError):  # the route answers 503: eBay retries later
        verifier.verify(b"{}", _claims("one-too-many"))
    assert verifier.fetch_attempts == FETCHES_PER_MINUTE


def test_a_failed_fetch_is_remembered_briefly(settings):
    """eBay unreachable: one attempt, then 503s without refetching for a short while."""
    verifier = NotificationVerifier(
        settings.model_copy(update={"ebay_base_url": "http://127.0.0.1:1"})
    )
    for _ in range(3):
        with pytest.raises(RetryableError):
            verifier.verify(b"{}", _claims("some-key"))
    assert verifier.fetch_attempts == 1
