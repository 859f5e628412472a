"""Backup files on S3 under `backups/`: multipart upload and download of large files with
user metadata (checksum, engine, revision), listing with sizes, batch deletes.

Uses the storage adapter's client and error classification; large dumps stream from and to
disk (boto3's managed transfer), never through memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from adapters.errors import RetryableError
from adapters.s3 import PREFIXES, SERVICE, Storage, check_key, classify_s3_error

TRANSFER = TransferConfig(
    multipart_threshold=64 * 1024 * 1024, multipart_chunksize=64 * 1024 * 1024
)


@dataclass(frozen=True)
class BackupObject:
    key: str
    size: int
    last_modified: datetime
    metadata: dict[str, str] = field(default_factory=dict)


class BackupStore:
    def __init__(self, storage: Storage) -> None:
        self.client = storage.client
        self.bucket = storage.bucket

    def upload(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                check_key(key),
                ExtraArgs={"Metadata": metadata, "ContentType": "application/octet-stream"},
                Config=TRANSFER,
            )
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc

    def download(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, check_key(key), str(path), Config=TRANSFER)
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc

    def head(self, key: str) -> BackupObject:
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc
        return BackupObject(
            key, found["ContentLength"], found["LastModified"], dict(found.get("Metadata", {}))
        )

    def list(self, prefix: str) -> list[BackupObject]:
        if not prefix.startswith(PREFIXES):
            raise ValueError(f"prefix {prefix!r} must start with one of {', '.join(PREFIXES)}")
        found: list[BackupObject] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    found.append(BackupObject(item["Key"], item["Size"], item["LastModified"]))
        except (ClientError, BotoCoreError) as exc:
            raise classify_s3_error(exc) from exc
        return found

    def delete(self, keys: Sequence[str]) -> None:
        """Delete `keys` (a missing key is not an error); with versioning on, S3 keeps the
        old versions until the bucket's noncurrent-version rule expires them."""
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": check_key(key)} for key in keys[start : start + 1000]]
            try:
                result = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (ClientError, BotoCoreError) as exc:
                raise classify_s3_error(exc) from exc
            if result.get("Errors"):
                first = result["Errors"][0]
                raise RetryableError(
                    SERVICE, f"{first.get('Key')}: {first.get('Message')}", code=first.get("Code")
                )
