"""Object storage on S3 (SeaweedFS `weed mini` in development and tests): product images,
shipping labels, inspection videos, documents and temporary uploads, each under its own prefix.

Path-style addressing and SigV4 so the same code works against AWS and local S3 servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from adapters.errors import (
    AdapterError,
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from config import Settings
from domain.media import INSPECTION_MEDIA_ROOT

SERVICE = "s3"
PREFIXES = (
    "product-images/",
    "shipping-labels/",
    INSPECTION_MEDIA_ROOT,
    "documents/",
    "temp/",
    "backups/",  # database backups (ops/backup.py); the backup workflow applies retention
)
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 limit
THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "SlowDown",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
}
NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NotFound", "404"}
DENIED = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
    "403",
}
LIFECYCLE_RULES: list[dict[str, Any]] = [
    {
        "ID": "temp-expire-1d",
        "Filter": {"Prefix": "temp/"},
        "Status": "Enabled",
        "Expiration": {"Days": 1},
    },
    {
        # Backstop for the backup workflow's retention (which keeps monthly ones for a year).
        "ID": "backups-expire-400d",
        "Filter": {"Prefix": "backups/"},
        "Status": "Enabled",
        "Expiration": {"Days": 400},
    },
    {
        "ID": "noncurrent-expire-90d",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    },
    {
        "ID": "abort-multipart-7d",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    },
]


IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")


@dataclass(frozen=True)
class UploadForm:
    """A presigned POST: the browser sends `fields` then the file (form field `file`) to `url`.

    S3 checks the policy: exactly this key, this Content-Type, at most `max_bytes`, before
    `expires_in` seconds have passed (a larger file is refused with 400 EntityTooLarge)."""

    key: str
    url: str
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_in: int


def upload_limit(settings: Settings, content_type: str) -> int:
    """The size ceiling of one upload by kind: images, videos (settings)."""
    if content_type in IMAGE_TYPES:
        return settings.max_image_upload_bytes
    if content_type in VIDEO_TYPES:
        return settings.max_video_upload_bytes
    raise ValueError(f"content type {content_type!r} is neither an image nor a video we accept")


def cors_origins(settings: Settings) -> list[str]:
    """Origins whose pages upload and download straight to the bucket: the console (served by
    the API at PUBLIC_BASE_URL) and the CORS_ALLOW_ORIGINS front ends."""
    public = urlparse(settings.public_base_url)
    origins = [f"{public.scheme}://{public.netloc}"] if public.scheme and public.netloc else []
    return list(dict.fromkeys([*origins, *settings.cors_allow_origins]))


def cors_rules(settings: Settings) -> list[dict[str, Any]]:
    return [
        {
            "ID": "browser-uploads-downloads",
            "AllowedOrigins": cors_origins(settings),
            "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "x-amz-version-id"],
            "MaxAgeSeconds": 3000,
        }
    ]


def check_key(key: str) -> str:
    """Every object lives under one of PREFIXES; anything else is refused."""
    if not key.startswith(PREFIXES) or key in PREFIXES:
        raise ValueError(f"storage key {key!r} must start with one of {', '.join(PREFIXES)}")
    if ".." in key.split("/") or "//" in key:
        raise ValueError(f"storage key {key!r} has an empty or '..' path segment")
    return key


def classify_s3_error(exc: Exception) -> AdapterError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message") or code or exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in NOT_FOUND:
            return NotFoundError(SERVICE, message, status=status, code=code)
        if code in DENIED:
            return AuthenticationError(SERVICE, message, status=status, code=code)
        if code in ("SlowDown", "Throttling", "ThrottlingException") or status == 429:
            return RateLimitedError(SERVICE, message, status=status, code=code, retry_after=1.0)
        if code in THROTTLING or (status is not None and status >= 500):
            return RetryableError(SERVICE, message, status=status, code=code)
        return PermanentError(SERVICE, message, status=status, code=code)
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return RetryableError(SERVICE, f"{type(exc).__name__}: {exc}")
    return PermanentError(SERVICE, f"{type(exc).__name__}: {exc}")


class Storage:
    def __init__(self, settings: Settings, client: BaseClient | None = None) -> None:
        self.settings = settings
        self.bucket = settings.aws_s3_bucket
        self.client = client or boto3.client(
            "s3",
            region_name=settings.aws_region,
            endpoint_url=settings.aws_endpoint_url or None,
            aws_access_key_id=settings.aws_access_key_id or None,
            aws_secret_access_key=settings.aws_secret_access_key.get_secret_value() or None,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 1, "mode": "standard"},  # Temporal owns retries
            ),
        )

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **params)
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc

    # Objects ------------------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data`; returns the new version id ("" when versioning is off)."""
        result = self._call("put_object", Key=check_key(key), Body=data, ContentType=content_type)
        version = result.get("VersionId") or ""
        return "" if version == "null" else version

    def get_bytes(self, key: str) -> bytes:
        result = self._call("get_object", Key=check_key(key))
        try:
            return result["Body"].read()
        except (BotoCoreError, OSError) as exc:
            raise RetryableError(SERVICE, f"reading {key}: {exc}") from exc

    def version_id(self, key: str) -> str:
        """The current version id of `key` ("" when versioning is off); NotFoundError if none."""
        result = self._call("head_object", Key=check_key(key))
        version = result.get("VersionId") or ""
        return "" if version == "null" else version

    def version_of(self, key: str) -> str | None:
        """The current version id of `key` ("" when versioning is off), None if it is missing:
        presence and version in one HEAD."""
        try:
            return self.version_id(key)
        except NotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.version_of(key) is not None

    def delete(self, key: str) -> None:
        """Deleting a missing key is not an error (S3 answers 204 either way)."""
        self._call("delete_object", Key=check_key(key))

    def list_keys(self, prefix: str) -> list[str]:
        return [item["Key"] for item in self._iter_objects(prefix)]

    def _iter_objects(self, prefix: str) -> list[dict[str, Any]]:
        if not prefix.startswith(PREFIXES):
            raise ValueError(f"prefix {prefix!r} must start with one of {', '.join(PREFIXES)}")
        items: list[dict[str, Any]] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                items.extend(page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc
        return items

    # Presigned URLs ---------------------------------------------------------------------------

    def presign_get(self, key: str, expires: int = 900, version_id: str = "") -> str:
        """A short-lived download URL; with `version_id`, that version even if overwritten."""
        params = {"Key": check_key(key)}
        if version_id:
            params["VersionId"] = version_id
        return self._presign("get_object", params, expires)

    def presign_upload(self, key: str, content_type: str, expires: int | None = None) -> UploadForm:
        """A presigned POST for exactly `key`, this content type and its kind's size ceiling."""
        max_bytes = upload_limit(self.settings, content_type)
        expires = expires or self.settings.upload_url_seconds
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires must be 1..{MAX_PRESIGN_SECONDS} seconds, got {expires}")
        try:
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=check_key(key),
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", 1, max_bytes],
                ],
                ExpiresIn=expires,
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc
        return UploadForm(
            key=key,
            url=post["url"],
            fields={str(k): str(v) for k, v in post["fields"].items()},
            content_type=content_type,
            max_bytes=max_bytes,
            expires_in=expires,
        )

    def _presign(self, operation: str, params: dict[str, Any], expires: int) -> str:
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires must be 1..{MAX_PRESIGN_SECONDS} seconds, got {expires}")
        try:
            return self.client.generate_presigned_url(
                operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=expires
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc

    # Bucket and housekeeping --------------------------------------------------------------------

    def ensure_bucket(self) -> None:
        """Create the bucket if missing, then (re)apply versioning, lifecycle and CORS rules."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            error = classify_s3_error(exc)
            if not isinstance(error, NotFoundError):
                raise error from exc
            params: dict[str, Any] = {}
            if self.settings.aws_region != "us-east-1":
                params["CreateBucketConfiguration"] = {
                    "LocationConstraint": self.settings.aws_region
                }
            try:
                self._call("create_bucket", **params)
            except PermanentError as created:
                if created.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        except BotoCoreError as exc:
            raise classify_s3_error(exc) from exc
        self._call("put_bucket_versioning", VersioningConfiguration={"Status": "Enabled"})
        self._call(
            "put_bucket_lifecycle_configuration",
            LifecycleConfiguration={"Rules": LIFECYCLE_RULES},
        )
        self._call("put_bucket_cors", CORSConfiguration={"CORSRules": cors_rules(self.settings)})

    def delete_older_than(self, prefix: str, age: timedelta) -> int:
        """Delete objects under `prefix` last modified more than `age` ago; returns the count.

        Lifecycle rules do this on AWS about daily (and never on local servers); the
        storage-cleanup job calls this so short-lived files go on time everywhere."""
        cutoff = datetime.now(UTC) - age
        old = [item["Key"] for item in self._iter_objects(prefix) if item["LastModified"] < cutoff]
        for start in range(0, len(old), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": key} for key in old[start : start + 1000]]
            result = self._call("delete_objects", Delete={"Objects": batch, "Quiet": True})
            if result.get("Errors"):
                first = result["Errors"][0]
                raise RetryableError(
                    SERVICE, f"{first.get('Key')}: {first.get('Message')}", code=first.get("Code")
                )
        return len(old)
