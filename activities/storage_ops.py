"""Storage housekeeping: temporary uploads expire after a day (the bucket's lifecycle rule does
the same on AWS; this activity covers MinIO/SeaweedFS and buckets without the rule)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.base import external_call
from activities.deps import Dependencies
from domain.errors import VALIDATION_FAILED
from workflows.contracts.ops import (
    CLEANUP_STORAGE_ACTIVITY,
    StorageCleanupInput,
    StorageCleanupResult,
)

CLEANABLE_PREFIXES = ("temp/",)
"""Only scratch space: evidence (inspection videos), labels and product images are never swept."""


class StorageActivities:
    """Storage housekeeping.

    One instance per worker; its `@activity.defn` methods are registered by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self.settings = deps.settings

    @activity.defn(name=CLEANUP_STORAGE_ACTIVITY)
    @external_call
    def cleanup_storage(self, request: StorageCleanupInput) -> StorageCleanupResult:
        if request.prefix not in CLEANABLE_PREFIXES:
            raise ApplicationError(
                f"refusing to clean {request.prefix!r}: only {CLEANABLE_PREFIXES} may be swept",
                type=VALIDATION_FAILED,
                non_retryable=True,
            )
        deleted = self.deps.storage.delete_older_than(
            request.prefix, timedelta(hours=request.max_age_hours)
        )
        return StorageCleanupResult(deleted=deleted)
