"""Storage against the local S3 server (SeaweedFS) over real HTTP: bucket setup read back from S3,
objects, versions, bounded presigned POST uploads and GET downloads with httpx, cleanup by age
and error classification."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from botocore.exceptions import ClientError

from adapters.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from adapters.s3 import PREFIXES, Storage, check_key, classify_s3_error
from tests.uploads import post_upload


@pytest.fixture
def storage(sandbox, settings) -> Storage:
    store = Storage(settings)
    store.ensure_bucket()
    return store


@pytest.fixture
def fresh(sandbox, settings) -> Storage:
    """A bucket nobody has created yet."""
    return Storage(settings.model_copy(update={"aws_s3_bucket": f"wd-{uuid.uuid4().hex[:12]}"}))


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex}/"


def test_keys_outside_the_prefixes_are_refused(storage):
    for key in ("secrets.txt", "/product-images/a.jpg", "temp/", "temp/../documents/x", "tmp/a"):
        with pytest.raises(ValueError):
            check_key(key)
    with pytest.raises(ValueError):
        storage.put_bytes("other/a.txt", b"x", "text/plain")
    with pytest.raises(ValueError):
        storage.presign_get("nowhere.pdf")
    with pytest.raises(ValueError):
        storage.list_keys("elsewhere/")
    assert all(check_key(p + "a.bin") for p in PREFIXES)


def test_ensure_bucket_creates_with_versioning_and_lifecycle(fresh):
    fresh.ensure_bucket()
    fresh.ensure_bucket()  # idempotent
    s3, bucket = fresh.client, fresh.bucket
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["temp-expire-1d"]["Filter"] == {"Prefix": "temp/"}
    assert rules["temp-expire-1d"]["Expiration"] == {"Days": 1}
    assert rules["noncurrent-expire-90d"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rules["abort-multipart-7d"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    assert all(r["Status"] == "Enabled" for r in rules.values())


def test_put_get_exists_list_delete_and_versions(storage):
    base = _unique("documents/")
    key = base + "invoice.pdf"
    assert not storage.exists(key)
    first = storage.put_bytes(key, b"%PDF-1 first", "application/pdf")
    second = storage.put_bytes(key, b"%PDF-1 second", "application/pdf")
    assert first and second and first != second
    assert storage.get_bytes(key) == b"%PDF-1 second"
    assert storage.exists(key)
    storage.put_bytes(base + "other.pdf", b"x", "application/pdf")
    assert storage.list_keys(base) == [base + "invoice.pdf", base + "other.pdf"]
    versions = storage.client.list_object_versions(Bucket=storage.bucket, Prefix=key)["Versions"]
    assert {v["VersionId"] for v in versions} == {first, second}
    head = storage.client.head_object(Bucket=storage.bucket, Key=key)
    assert head["ContentType"] == "application/pdf"
    storage.delete(key)
    storage.delete(key)  # deleting twice is fine
    assert not storage.exists(key)
    with pytest.raises(NotFoundError):
        storage.get_bytes(key)


def test_presigned_post_then_presigned_get(storage):
    key = _unique("product-images/") + "front.jpg"
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    form = storage.presign_upload(key, "image/jpeg", expires=120)
    assert form.max_bytes == storage.settings.max_image_upload_bytes
    assert urlparse(form.url).path == f"/{storage.bucket}"  # path-style addressing
    assert form.fields["key"] == key and form.fields["Content-Type"] == "image/jpeg"
    uploaded = post_upload(form, jpeg)
    assert uploaded.status_code == 204, uploaded.text
    get_url = storage.presign_get(key, expires=60)
    assert parse_qs(urlparse(get_url).query)["X-Amz-Expires"] == ["60"]
    downloaded = httpx.get(get_url)
    assert downloaded.status_code == 200 and downloaded.content == jpeg
    assert storage.get_bytes(key) == jpeg
    with pytest.raises(ValueError):
        storage.presign_get(key, expires=8 * 24 * 3600)  # beyond SigV4's 7 days


def test_presigned_post_is_bounded_by_size_key_type_and_signature(storage, settings):
    small = settings.model_copy(update={"max_image_upload_bytes": 100})
    bounded = Storage(small, client=storage.client)
    key = _unique("product-images/") + "a.png"
    form = bounded.presign_upload(key, "image/png")
    assert form.max_bytes == 100

    too_large = post_upload(form, b"\x89PNG" + b"\x00" * 200)
    assert too_large.status_code == 400 and "EntityTooLarge" in too_large.text
    assert not storage.exists(key)

    other_key = dict(form.fields, key=_unique("product-images/") + "b.png")
    refused = httpx.post(form.url, data=other_key, files={"file": ("x", b"x", "image/png")})
    assert refused.status_code == 403
    other_type = dict(form.fields, **{"Content-Type": "text/html"})
    refused = httpx.post(form.url, data=other_type, files={"file": ("x", b"x", "text/html")})
    assert refused.status_code == 403
    signature = form.fields["x-amz-signature"]
    forged = dict(
        form.fields, **{"x-amz-signature": ("0" if signature[0] != "0" else "1") + signature[1:]}
    )
    refused = httpx.post(form.url, data=forged, files={"file": ("x", b"x", "image/png")})
    assert refused.status_code == 403
    assert not storage.exists(key)

    assert post_upload(form, b"\x89PNG" + b"\x00" * 50).status_code == 204
    assert storage.exists(key)
    with pytest.raises(ValueError):
        storage.presign_upload(key, "application/x-msdownload")


def test_videos_get_their_own_ceiling(storage, settings):
    form = storage.presign_upload(_unique("inspection-videos/") + "v.mp4", "video/mp4")
    assert form.max_bytes == settings.max_video_upload_bytes > settings.max_image_upload_bytes


def test_an_overwritten_object_keeps_the_recorded_version(storage):
    key = _unique("inspection-videos/") + "evidence.mp4"
    storage.put_bytes(key, b"original", "video/mp4")
    recorded = storage.version_id(key)
    assert recorded
    storage.put_bytes(key, b"replaced", "video/mp4")
    assert storage.version_id(key) != recorded
    assert httpx.get(storage.presign_get(key, version_id=recorded)).content == b"original"
    assert httpx.get(storage.presign_get(key)).content == b"replaced"
    with pytest.raises(NotFoundError):
        storage.version_id(_unique("inspection-videos/") + "never.mp4")


def test_delete_older_than_removes_only_old_objects_under_prefix(storage):
    temp = _unique("temp/")
    kept = _unique("documents/") + "keep.txt"
    storage.put_bytes(temp + "a.bin", b"a", "application/octet-stream")
    storage.put_bytes(temp + "b.bin", b"b", "application/octet-stream")
    storage.put_bytes(kept, b"k", "text/plain")
    assert storage.delete_older_than(temp, timedelta(hours=1)) == 0
    time.sleep(1.1)  # S3 timestamps have one-second resolution
    assert storage.delete_older_than(temp, timedelta(seconds=1)) == 2
    assert storage.list_keys(temp) == []
    assert storage.exists(kept)


def test_missing_bucket_is_not_found(fresh):
    with pytest.raises(NotFoundError):
        fresh.get_bytes("temp/nothing")


def test_unreachable_endpoint_is_retryable(settings):
    from sandbox.server import free_port

    down = settings.model_copy(update={"aws_endpoint_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(RetryableError):
        Storage(down).put_bytes("temp/x", b"x", "text/plain")


@pytest.mark.parametrize(
    ("code", "status", "expected", "retryable"),
    [
        ("NoSuchKey", 404, NotFoundError, False),
        ("AccessDenied", 403, AuthenticationError, False),
        ("SlowDown", 503, RateLimitedError, True),
        ("InternalError", 500, RetryableError, True),
        ("ServiceUnavailable", 503, RetryableError, True),
        ("InvalidArgument", 400, PermanentError, False),
        ("EntityTooLarge", 400, PermanentError, False),
    ],
)
def test_client_errors_are_classified(code, status, expected, retryable):
    error = ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} said so"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObject",
    )
    classified = classify_s3_error(error)
    assert type(classified) is expected and classified.retryable is retryable
    assert classified.message == f"{code} said so" and classified.code == code
