"""InspectionWorkflow (id `inspection-{order_id}`): an inspector checks the item before it ships.

The checklist comes from the products (condition, category). The inspector asks for presigned
upload URLs (update `request_upload`), uploads photos/video straight to S3 under
`inspection-videos/{order_id}/`, then submits the verdict (update `submit_result`): the validator
does the cheap checks, the handler checks S3 in an activity. While nobody inspects, staff get an
escalation email every `escalation_hours`.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.errors import MEDIA_MISSING, VALIDATION_FAILED
    from domain.media import inspection_media_prefix, is_inspection_media_key
    from temporal_client import BUSINESS_STATUS, ORDER_ID, order_search_attributes
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.common import STATUS_QUERY
    from workflows.contracts.email import EMAIL_WORKFLOW, EmailResult, SendEmail, email_workflow_id
    from workflows.contracts.inspection import (
        CHECK_MEDIA_ACTIVITY,
        CHECK_MEDIA_VERSIONS_ACTIVITY,
        CREATE_INSPECTION_ACTIVITY,
        INSPECTION_WORKFLOW,
        PRESIGN_UPLOADS_ACTIVITY,
        RECORD_ESCALATION_ACTIVITY,
        RECORD_INSPECTION_ACTIVITY,
        REQUEST_UPLOAD_UPDATE,
        SUBMIT_RESULT_UPDATE,
        ChecklistItem,
        CheckMedia,
        CreateInspection,
        InspectionInput,
        InspectionOutcome,
        InspectionSetup,
        InspectionStatus,
        InspectionSubmission,
        MediaCheck,
        PresignUploads,
        RecordEscalation,
        RecordInspection,
        RequestUpload,
        UploadTarget,
    )
    from workflows.contracts.policies import id_reuse_policy

MAX_FILES_PER_REQUEST = 20
ESCALATION_CADENCE_TASK = "inspection-escalation-cadence-task"
"""Patch id: escalation timers in their own task, none started where an update can land."""


@workflow.defn(name=INSPECTION_WORKFLOW)
class InspectionWorkflow:
    @workflow.init
    def __init__(self, request: InspectionInput) -> None:
        self._order_id = request.order_id  # known to validators of updates in the first task
        self._step = "creating"
        self._checklist: list[ChecklistItem] = []
        self._escalations = 0
        self._outcome: InspectionOutcome | None = None
        self._submitting = asyncio.Lock()
        self._versions_at_check = request.versions_at_check
        self._cadence: asyncio.Task[None] | None = None
        self._escalating: set[int] = set()

    @workflow.run
    async def run(self, request: InspectionInput) -> InspectionOutcome:
        if not request.lean:  # a lean start carries them (see InspectionInput.lean)
            workflow.upsert_search_attributes(
                [
                    ORDER_ID.value_set(request.ebay_order_id or request.order_id),
                    BUSINESS_STATUS.value_set("inspecting"),
                ]
            )
        cadence_task = request.lean or workflow.patched(ESCALATION_CADENCE_TASK)
        if cadence_task:  # the escalation timers run beside the main line, started once
            self._cadence = asyncio.create_task(self._escalation_cadence(request))
        setup = await workflow.execute_activity(
            CREATE_INSPECTION_ACTIVITY,
            CreateInspection(order_id=request.order_id, workflow_id=workflow.info().workflow_id),
            result_type=InspectionSetup,
            **DATABASE,
        )
        self._checklist = setup.checklist
        self._step = "awaiting_result"
        workflow.set_current_details(f"waiting for the inspector ({len(self._checklist)} checks)")
        if cadence_task:
            # No command here: this task was triggered by an activity result, where an update
            # may be accepted too; the cadence task owns the timers.
            await workflow.wait_condition(
                lambda: self._outcome is not None and not self._escalating
            )
        else:  # histories written before the cadence task: a timer per wait in the main line
            while self._outcome is None:
                try:
                    await workflow.wait_condition(
                        lambda: self._outcome is not None,
                        timeout=timedelta(hours=request.escalation_hours),
                        timeout_summary="inspection escalation",
                    )
                except TimeoutError:
                    await self._escalate(request, self._next_escalation())
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self._outcome is not None
        self._step = "done"
        verdict = "passed" if self._outcome.passed else "failed"
        workflow.upsert_search_attributes([BUSINESS_STATUS.value_set(f"inspection_{verdict}")])
        workflow.set_current_details(f"inspection {verdict}")
        return self._outcome

    async def _escalation_cadence(self, request: InspectionInput) -> None:
        """Every `escalation_hours` until the result is in: re-arm the next timer in the same task
        where the last one fired, and send the escalation beside it, so no timer is ever started
        in a task triggered by an activity or child result."""
        while self._outcome is None:
            await workflow.sleep(
                timedelta(hours=request.escalation_hours), summary="inspection escalation"
            )
            if self._outcome is not None:
                return
            count = self._next_escalation()
            self._escalating.add(count)
            task = asyncio.create_task(self._escalate(request, count))
            task.add_done_callback(lambda _t, c=count: self._escalating.discard(c))  # type: ignore[misc]

    def _next_escalation(self) -> int:
        self._escalations += 1
        return self._escalations

    async def _escalate(self, request: InspectionInput, count: int) -> None:
        """Email the staff and record the escalation; both commands leave in the same task."""
        workflow.set_current_details(f"not inspected yet: escalation {count} sent")
        email = SendEmail(
            template="inspection_escalation",
            to_email=request.staff_email,
            to_name="Staff",
            key=f"{request.order_id}-{count}",
            data={
                "order_id": request.order_id,
                "ebay_order_id": request.ebay_order_id,
                "hours_waiting": round(request.escalation_hours * count, 1),
                "escalation": count,
            },
            categories=["inspection"],
        )
        record = RecordEscalation(order_id=request.order_id, count=count)
        order_key = request.ebay_order_id or request.order_id
        if self._cadence is None:  # histories before the cadence task: email, then record
            await self._send_escalation(email, order_key)
            await workflow.execute_activity(RECORD_ESCALATION_ACTIVITY, record, **DATABASE)
            return
        await asyncio.gather(
            self._send_escalation(email, order_key),
            workflow.execute_activity(RECORD_ESCALATION_ACTIVITY, record, **DATABASE),
        )

    async def _send_escalation(self, email: SendEmail, order_key: str) -> None:
        try:
            await workflow.execute_child_workflow(
                EMAIL_WORKFLOW,
                email,
                id=email_workflow_id(email.template, email.key),
                id_reuse_policy=id_reuse_policy(EMAIL_WORKFLOW),
                result_type=EmailResult,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                search_attributes=order_search_attributes(order_key),
            )
        except WorkflowAlreadyStartedError:
            pass  # this reminder was already sent
        except ChildWorkflowError as error:  # a lost reminder must not stop the inspection
            workflow.logger.warning("escalation email failed: %s", error)

    # --- updates ----------------------------------------------------------------------------

    @workflow.update(name=REQUEST_UPLOAD_UPDATE)
    async def request_upload(self, request: RequestUpload) -> list[UploadTarget]:
        return await workflow.execute_activity(
            PRESIGN_UPLOADS_ACTIVITY,
            PresignUploads(
                order_id=self._order_id,
                file_names=request.file_names,
                content_type=request.content_type,
            ),
            result_type=list[UploadTarget],
            **EXTERNAL,
        )

    @request_upload.validator
    def _validate_request_upload(self, request: RequestUpload) -> None:
        # Validators read only the input and finality: the main line's progress (`_step`) may lag
        # behind an update delivered in the same task as an activity result.
        if self._outcome is not None:
            raise ApplicationError("uploads are closed (result submitted)", type=VALIDATION_FAILED)
        if not request.file_names:
            raise ApplicationError("give at least one file name", type=VALIDATION_FAILED)
        if len(request.file_names) > MAX_FILES_PER_REQUEST:
            raise ApplicationError(
                f"at most {MAX_FILES_PER_REQUEST} files per request", type=VALIDATION_FAILED
            )

    @workflow.update(name=SUBMIT_RESULT_UPDATE)
    async def submit_result(self, submission: InspectionSubmission) -> InspectionOutcome:
        await workflow.wait_condition(lambda: self._step != "creating")  # the checklist is in
        self._check_answers(submission)
        async with self._submitting:  # two inspectors at once: the first one wins
            if self._outcome is not None:
                raise ApplicationError("the result was already submitted", type=VALIDATION_FAILED)
            checked = await self._check_media(submission.media_keys)
            if checked.problems:
                raise ApplicationError("; ".join(checked.problems), type=MEDIA_MISSING)
            passed = all(submission.answers.values())
            self._step = "recording"
            await workflow.execute_activity(
                RECORD_INSPECTION_ACTIVITY,
                RecordInspection(
                    order_id=self._order_id,
                    passed=passed,
                    answers=submission.answers,
                    media_keys=submission.media_keys,
                    inspector_id=submission.inspector_id,
                    notes=submission.notes,
                    media_versions=checked.versions,
                ),
                **DATABASE,
            )
            self._outcome = InspectionOutcome(
                order_id=self._order_id,
                passed=passed,
                notes=submission.notes,
                inspector_id=submission.inspector_id,
                media_keys=submission.media_keys,
            )
            return self._outcome

    async def _check_media(self, keys: list[str]) -> MediaCheck:
        """Each key present in S3, with its version (the verdict's evidence) where this
        inspection was started to ask for them in the same look."""
        request = CheckMedia(order_id=self._order_id, keys=keys)
        if self._versions_at_check:
            return await workflow.execute_activity(
                CHECK_MEDIA_VERSIONS_ACTIVITY, request, result_type=MediaCheck, **EXTERNAL
            )
        problems = await workflow.execute_activity(
            CHECK_MEDIA_ACTIVITY, request, result_type=list[str], **EXTERNAL
        )
        return MediaCheck(problems=problems)

    def _check_answers(self, submission: InspectionSubmission) -> None:
        """Against the checklist, once it is known: fails the update, never the task."""
        keys = {item.key for item in self._checklist}
        missing = sorted(keys - submission.answers.keys())
        unknown = sorted(submission.answers.keys() - keys)
        if missing:
            raise ApplicationError(
                f"checklist items not answered: {', '.join(missing)}", type=VALIDATION_FAILED
            )
        if unknown:
            raise ApplicationError(
                f"not on the checklist: {', '.join(unknown)}", type=VALIDATION_FAILED
            )

    @submit_result.validator
    def _validate_submit_result(self, submission: InspectionSubmission) -> None:
        if self._outcome is not None:
            raise ApplicationError(
                "no result expected now (already submitted)", type=VALIDATION_FAILED
            )
        if not submission.answers:
            raise ApplicationError("answer the checklist", type=VALIDATION_FAILED)
        if not submission.media_keys:
            raise ApplicationError(
                "at least one photo or video is required", type=VALIDATION_FAILED
            )
        outside = [
            k for k in submission.media_keys if not is_inspection_media_key(k, self._order_id)
        ]
        if outside:
            prefix = inspection_media_prefix(self._order_id)
            raise ApplicationError(
                f"media keys must be plain file paths under {prefix}: {', '.join(outside)}",
                type=VALIDATION_FAILED,
            )
        try:
            uuid.UUID(submission.inspector_id)
        except ValueError:
            raise ApplicationError(
                "inspector_id must be the inspector's user id", type=VALIDATION_FAILED
            ) from None
        if not all(submission.answers.values()) and not submission.notes.strip():
            raise ApplicationError(
                "a failed inspection needs notes saying what is wrong", type=VALIDATION_FAILED
            )

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> InspectionStatus:
        result: Literal["pending", "passed", "failed"] = (
            "pending" if self._outcome is None else ("passed" if self._outcome.passed else "failed")
        )
        return InspectionStatus(
            order_id=self._order_id,
            step=self._step,
            checklist=self._checklist,
            escalations=self._escalations,
            result=result,
            notes=self._outcome.notes if self._outcome else "",
        )
