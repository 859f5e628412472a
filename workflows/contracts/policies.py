"""Workflow ID reuse policy, chosen per workflow: what a second start with the same ID does once
the first run has closed. While a run is open a second start always fails
(`WorkflowIdConflictPolicy.FAIL`, Temporal's default), and callers read that as "already started":
the API answers with the running workflow, parents treat the child as started.
"""

from __future__ import annotations

from temporalio.common import WorkflowIDReusePolicy

from workflows.contracts.email import EMAIL_WORKFLOW
from workflows.contracts.fulfillment import FULFILLMENT_WORKFLOW
from workflows.contracts.inspection import INSPECTION_WORKFLOW
from workflows.contracts.label import LABEL_WORKFLOW
from workflows.contracts.listing import BULK_LISTING_WORKFLOW, LISTING_WORKFLOW
from workflows.contracts.listing_change import LISTING_CHANGE_WORKFLOW
from workflows.contracts.ops import ORDER_SYNC_WORKFLOW

ID_REUSE: dict[str, WorkflowIDReusePolicy] = {
    # The ID is the dedupe key of one business email: closed means sent (or suppressed); a
    # second start, even from a reset parent, must not send it again.
    EMAIL_WORKFLOW: WorkflowIDReusePolicy.REJECT_DUPLICATE,
    # One eBay order, one fulfillment: a finished order is never fulfilled twice.
    FULFILLMENT_WORKFLOW: WorkflowIDReusePolicy.REJECT_DUPLICATE,
    # A batch ID names one staff request.
    BULK_LISTING_WORKFLOW: WorkflowIDReusePolicy.REJECT_DUPLICATE,
    # A listing, an inspection or a label that completed stands; one that failed, timed out or
    # was terminated may be run again (staff retry, parent reset).
    LISTING_WORKFLOW: WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    INSPECTION_WORKFLOW: WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    LABEL_WORKFLOW: WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    # The manual order sync has one fixed ID: one at a time, and again whenever staff ask.
    ORDER_SYNC_WORKFLOW: WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    # A price push, an end or a relist is one staff request on the listing as it is now: the
    # next price change must push again once the last push closed (one at a time while open).
    LISTING_CHANGE_WORKFLOW: WorkflowIDReusePolicy.ALLOW_DUPLICATE,
}


def id_reuse_policy(workflow_type: str) -> WorkflowIDReusePolicy:
    """The chosen policy; a workflow started by ID must be listed above."""
    return ID_REUSE[workflow_type]
