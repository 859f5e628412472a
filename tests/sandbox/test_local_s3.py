"""The local S3 server (SeaweedFS `weed mini`) as the embedded default runs it: objects survive a
restart (clean and kill -9), and presigned URLs are checked the way S3 checks them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import httpx
import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from adapters.s3 import Storage
from sandbox.local_s3 import LocalS3, free_port, free_port_block, s3_client


@pytest.fixture
def own_server(settings, tmp_path):
    """A second server with its own ports and data dir, so restarting it disturbs nobody."""
    own = settings.model_copy(
        update={
            "sandbox_s3_port": free_port(),
            "sandbox_s3_internal_port": free_port_block(),
            "aws_s3_bucket": "restart-check",
        }
    )
    own = own.model_copy(update={"aws_endpoint_url": f"http://127.0.0.1:{own.sandbox_s3_port}"})
    server = LocalS3(own, data_dir=tmp_path / "s3")
    server.start()
    server.wait_ready()
    yield server
    server.stop()


def test_argv_pins_every_listener_and_turns_telemetry_off(settings):
    argv = LocalS3(settings).argv()
    assert argv[1] == "mini"
    flags = dict(a.lstrip("-").split("=", 1) for a in argv[2:])
    assert flags["master.telemetry"] == "false"
    assert flags["ip.bind"] == "127.0.0.1"
    assert flags["s3.port"] == str(settings.sandbox_s3_port)
    base = settings.sandbox_s3_internal_port
    ports = [int(flags[f]) for f in ("master.port", "volume.port", "filer.port", "s3.port.grpc")]
    assert all(base <= p < base + 8 for p in ports)
    # the admin's gRPC port must be its HTTP port + 10000: the mini worker dials exactly that
    assert int(flags["admin.port.grpc"]) == int(flags["admin.port"]) + 10000
    assert flags["webdav"] == "false" and flags["admin.ui"] == "false"
    assert flags["s3.port.iceberg"] == "0" and flags["s3.port.lance"] == "0"
    assert flags["dir"] == "." and flags["s3.config"] == "identities.json"  # cwd: var/s3


@pytest.mark.integration  # starts and kills a server process of its own
@pytest.mark.parametrize("how", ["sigterm", "kill -9"])
def test_objects_and_versions_survive_a_restart(own_server, how):
    storage = Storage(own_server.settings)
    storage.ensure_bucket()
    first = storage.put_bytes("documents/restart/a.txt", b"first", "text/plain")
    second = storage.put_bytes("documents/restart/a.txt", b"second", "text/plain")
    assert first and second and first != second

    if how == "sigterm":
        assert own_server.stop() == 0
    else:
        own_server.kill()
    own_server.start()
    own_server.wait_ready()

    # Ready means objects are served: one plain GET, no client retries (a browser's download).
    downloaded = httpx.get(storage.presign_get("documents/restart/a.txt"))
    assert (downloaded.status_code, downloaded.content) == (200, b"second")
    assert storage.get_bytes("documents/restart/a.txt") == b"second"
    old = storage.client.get_object(
        Bucket=storage.bucket, Key="documents/restart/a.txt", VersionId=first
    )
    assert old["Body"].read() == b"first"
    assert storage.client.get_bucket_versioning(Bucket=storage.bucket)["Status"] == "Enabled"
    cors = storage.client.get_bucket_cors(Bucket=storage.bucket)["CORSRules"]
    assert own_server.settings.cors_allow_origins[0] in cors[0]["AllowedOrigins"]


def _tamper(url: str, name: str, value: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query[name] = value
    return urlunparse(parts._replace(query=urlencode(query)))


def test_tampered_swapped_and_expired_presigned_urls_are_refused(sandbox, settings):
    storage = Storage(settings)
    storage.ensure_bucket()
    storage.put_bytes("documents/signed/a.txt", b"secret", "text/plain")
    storage.put_bytes("documents/signed/b.txt", b"other", "text/plain")
    url = storage.presign_get("documents/signed/a.txt", expires=300)
    assert httpx.get(url).content == b"secret"

    signature = parse_qs(urlparse(url).query)["X-Amz-Signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert httpx.get(_tamper(url, "X-Amz-Signature", flipped)).status_code == 403
    swapped = url.replace("/a.txt?", "/b.txt?")
    assert httpx.get(swapped).status_code == 403
    assert httpx.get(_tamper(url, "X-Amz-Expires", "3600")).status_code == 403

    # Signed an hour ago for 60 seconds: expired, whatever the signature says.
    an_hour_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=an_hour_ago):
        expired = storage.presign_get("documents/signed/a.txt", expires=60)
    assert "X-Amz-Date" in expired
    answer = httpx.get(expired)
    assert answer.status_code == 403, answer.text
    assert httpx.put(_tamper(url, "X-Amz-Signature", flipped), content=b"x").status_code == 403
    anonymous = f"{settings.aws_endpoint_url}/{settings.aws_s3_bucket}/documents/signed/a.txt"
    assert httpx.get(anonymous).status_code == 403


def test_a_wrong_secret_is_refused(sandbox, settings):
    wrong = settings.model_copy(update={"aws_secret_access_key": SecretStr("not-the-secret")})
    with pytest.raises(ClientError) as caught:
        s3_client(wrong).head_bucket(Bucket=settings.aws_s3_bucket)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_ready_waits_until_an_object_is_served(settings, monkeypatch):
    """After a restart SeaweedFS answers the bucket before its volume server has joined: a read
    then was a 500 ("volume 1 not found"). Ready waits for the first object's first byte."""
    volume_not_found = ClientError(
        {"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "GetObject",
    )
    client = mock.Mock()
    client.list_objects_v2.return_value = {"Contents": [{"Key": "documents/a.pdf"}]}
    client.get_object.side_effect = [volume_not_found, volume_not_found, {"Body": b"%"}]
    monkeypatch.setattr("sandbox.local_s3.s3_client", lambda *args: client)
    monkeypatch.setattr("sandbox.local_s3.time.sleep", lambda seconds: None)

    LocalS3(settings).wait_ready(timeout=5)

    assert client.get_object.call_count == 3
    assert client.get_object.call_args.kwargs["Range"] == "bytes=0-0"
