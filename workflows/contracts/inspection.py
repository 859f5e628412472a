"""Contract of InspectionWorkflow (id `inspection-{order_id}`): the check before shipping.

Inspection media are uploaded by the browser straight to S3 through size-bounded presigned POST
forms the workflow hands out (update `request_upload`); the API may equally presign keys under
`inspection-videos/{order_id}/` itself. The verdict records each key's S3 version id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.contacts import STAFF_NOTIFICATION_EMAIL

INSPECTION_WORKFLOW = "InspectionWorkflow"


def inspection_workflow_id(order_id: str) -> str:
    return f"inspection-{order_id}"


# --- update / signal names ----------------------------------------------------------------

REQUEST_UPLOAD_UPDATE = "request_upload"
SUBMIT_RESULT_UPDATE = "submit_result"

# --- activity names -----------------------------------------------------------------------

CREATE_INSPECTION_ACTIVITY = "inspection.create"
PRESIGN_UPLOADS_ACTIVITY = "inspection.presign_uploads"
CHECK_MEDIA_ACTIVITY = "inspection.check_media"  # the inspections started before versions
CHECK_MEDIA_VERSIONS_ACTIVITY = "inspection.check_media_versions"
RECORD_INSPECTION_ACTIVITY = "inspection.record_result"
RECORD_ESCALATION_ACTIVITY = "inspection.record_escalation"

# --- models -------------------------------------------------------------------------------


class InspectionInput(BaseModel):
    """Input of InspectionWorkflow (id `inspection-{order_id}`)."""

    order_id: str
    ebay_order_id: str = ""
    staff_email: str = STAFF_NOTIFICATION_EMAIL
    escalation_hours: float = Field(default=24, gt=0)
    # Set by the orders that start it today: the escalation cadence task without asking the
    # `inspection-escalation-cadence-task` patch (a marker and a billed TemporalChangeVersion
    # upsert per inspection), and OrderId/BusinessStatus given at the start, not upserted.
    # False in the histories from before, which take the patch check and the upsert.
    lean: bool = False
    # Set by the orders that start it today: the media check answers each key's S3 version
    # with its presence (`inspection.check_media_versions`), and the verdict records those,
    # one S3 HEAD per key instead of two. False in the histories from before, whose check
    # (`inspection.check_media`) answered only the problems.
    versions_at_check: bool = False


class ChecklistItem(BaseModel):
    key: str  # e.g. "matches_photos"
    label: str


class CreateInspection(BaseModel):
    order_id: str
    workflow_id: str = ""


class InspectionSetup(BaseModel):
    inspection_id: str
    checklist: list[ChecklistItem]
    result: Literal["pending", "passed", "failed"] = "pending"


class RequestUpload(BaseModel):
    """Update `request_upload`: file names -> presigned POST forms under
    inspection-videos/{order_id}/."""

    file_names: list[str]
    content_type: str = "video/mp4"


class PresignUploads(BaseModel):
    order_id: str
    file_names: list[str]
    content_type: str = "video/mp4"


class UploadTarget(BaseModel):
    """A presigned POST: send `fields`, then the file as form field `file`, to `url`."""

    file_name: str
    key: str
    url: str
    content_type: str
    fields: dict[str, str] = Field(default_factory=dict)
    max_bytes: int = 0


class InspectionSubmission(BaseModel):
    """Update `submit_result`. Every checklist key answered; passed only if every answer is True."""

    answers: dict[str, bool]
    media_keys: list[str]
    inspector_id: str
    notes: str = ""


class CheckMedia(BaseModel):
    order_id: str
    keys: list[str]


class MediaCheck(BaseModel):
    """The problems with a submission's media (empty when fine) and each present key's S3
    version id ("" when the bucket keeps no versions)."""

    problems: list[str]
    versions: dict[str, str] = {}


class RecordInspection(BaseModel):
    order_id: str
    passed: bool
    answers: dict[str, bool]
    media_keys: list[str]
    inspector_id: str
    notes: str = ""
    # the versions the media check saw; empty: read them from S3 (the histories from before)
    media_versions: dict[str, str] = {}


class RecordEscalation(BaseModel):
    order_id: str
    count: int


class InspectionOutcome(BaseModel):
    order_id: str
    passed: bool
    notes: str = ""
    inspector_id: str = ""
    media_keys: list[str] = Field(default_factory=list)


class InspectionStatus(BaseModel):
    order_id: str
    step: Literal["creating", "awaiting_result", "recording", "done"]
    checklist: list[ChecklistItem] = Field(default_factory=list)
    escalations: int = 0
    result: Literal["pending", "passed", "failed"] = "pending"
    notes: str = ""
