"""ListingWorkflow (id `listing-{product_id}`): from the Japanese record to a live eBay listing.

Steps: load the product; AI copy (stored on the product); optional staff review through the
`request_review` signal, answered in the status query (`edit` saves the copy and keeps waiting,
`approve` publishes, `reject` stops) with reminder emails every `reminder_hours`; image URLs
for the S3 keys; inventory location, inventory item, offer, publish; product marked listed.
A permanent failure marks the product failed with the error and fails the workflow.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from temporal_client import BUSINESS_STATUS, SKU
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.common import with_answer
    from workflows.contracts.email import EMAIL_WORKFLOW, SendEmail, email_workflow_id
    from workflows.contracts.listing import (
        APPLY_EDIT_ACTIVITY,
        CREATE_OFFER_ACTIVITY,
        ENSURE_LOCATION_ACTIVITY,
        GENERATE_COPY_ACTIVITY,
        LISTING_WORKFLOW,
        LOAD_PRODUCT_ACTIVITY,
        PUBLISH_OFFER_ACTIVITY,
        PUT_INVENTORY_ITEM_ACTIVITY,
        RESOLVE_IMAGES_ACTIVITY,
        REVIEW_SIGNAL,
        REVIEW_UPDATE,
        SET_PRODUCT_STATUS_ACTIVITY,
        ApplyEdit,
        ImageUrls,
        ListingCopyResult,
        ListingInput,
        ListingResult,
        ListingReview,
        ListingStatus,
        ListingStep,
        ProductRef,
        ProductSnapshot,
        PublishOffer,
        PutInventoryItem,
        SetProductStatus,
        review_refusal,
    )
    from workflows.contracts.policies import id_reuse_policy


def _error_message(error: BaseException) -> str:
    """The innermost message: the vendor's text, not Temporal's wrapping."""
    while isinstance(error, ActivityError | ChildWorkflowError) and error.cause is not None:
        error = error.cause
    return str(error.message if isinstance(error, ApplicationError) else error)


EDIT_SAVES_PATCH = "review-edit-saves"
"""From this patch on, an `edit` saves the copy and the listing keeps waiting for `approve`."""

REMINDERS_BOUNDED = "listing-reminders-bounded"
"""Patch id: after `max_reminders` the wait for review keeps no timer."""


@workflow.defn(name=LISTING_WORKFLOW)
class ListingWorkflow:
    def __init__(self) -> None:
        self._status = ListingStatus(product_id="", step="loading")
        self._review: ListingReview | None = None
        self._edit: ListingReview | None = None  # signalled, saved by `_await_review`

    @workflow.run
    async def run(self, request: ListingInput) -> ListingResult:
        self._status.product_id = request.product_id
        try:
            result = await self._list(request)
        except (ActivityError, ChildWorkflowError, ApplicationError) as error:
            message = _error_message(error)
            self._status.error = message
            await self._step("failed", request, error=message)
            raise ApplicationError(
                f"listing {self._status.sku or request.product_id} failed: {message}",
                type="ListingFailed",
                non_retryable=True,
            ) from error
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _list(self, request: ListingInput) -> ListingResult:
        """Load, write the copy, wait for staff approval when required, publish on eBay."""
        ref = ProductRef(product_id=request.product_id)
        product = await workflow.execute_activity(
            LOAD_PRODUCT_ACTIVITY, ref, result_type=ProductSnapshot, **DATABASE
        )
        self._status.sku = product.sku
        workflow.upsert_search_attributes([SKU.value_set(product.sku)])
        if product.listing_id:  # already live (e.g. listed by a bulk batch)
            self._status.offer_id = product.offer_id
            self._status.listing_id = product.listing_id
            await self._step("listed")
            return self._result("listed")

        await self._step("generating", request)
        copy = await workflow.execute_activity(
            GENERATE_COPY_ACTIVITY, ref, result_type=ListingCopyResult, **EXTERNAL
        )
        self._status.title = copy.title

        if request.requires_approval:
            await self._step("awaiting_approval", request)
            review = await self._await_review(request)
            if review.action == "reject":
                await self._step("rejected", request, error=review.reason)
                return self._result("rejected")

        await self._step("publishing", request)
        await self._publish(ref)
        await self._step("listed", request)
        return self._result("listed")

    async def _publish(self, ref: ProductRef) -> None:
        images = await workflow.execute_activity(
            RESOLVE_IMAGES_ACTIVITY, ref, result_type=ImageUrls, **EXTERNAL
        )
        await workflow.execute_activity(ENSURE_LOCATION_ACTIVITY, **EXTERNAL)
        await workflow.execute_activity(
            PUT_INVENTORY_ITEM_ACTIVITY,
            PutInventoryItem(product_id=ref.product_id, image_urls=images.urls),
            **EXTERNAL,
        )
        self._status.offer_id = await workflow.execute_activity(
            CREATE_OFFER_ACTIVITY, ref, result_type=str, **EXTERNAL
        )
        self._status.listing_id = await workflow.execute_activity(
            PUBLISH_OFFER_ACTIVITY,
            PublishOffer(product_id=ref.product_id, offer_id=self._status.offer_id),
            result_type=str,
            **EXTERNAL,
        )

    async def _await_review(self, request: ListingInput) -> ListingReview:
        """Wait for staff; remind them every `reminder_hours` (up to `max_reminders` emails). A
        signalled edit is saved here, by the main coroutine, and the wait goes on."""
        every = timedelta(hours=request.reminder_hours)

        def reviewed() -> bool:
            return self._review is not None or self._edit is not None

        while True:
            if self._status.reminders_sent >= request.max_reminders and workflow.patched(
                REMINDERS_BOUNDED
            ):  # every reminder went out: wait on without a timer
                await workflow.wait_condition(reviewed)
            else:
                try:
                    await workflow.wait_condition(reviewed, timeout=every)
                except TimeoutError:
                    if self._status.reminders_sent < request.max_reminders:
                        await self._remind(request)
                    continue
            if self._review is not None:
                return self._review
            await self._save_edit()

    async def _save_edit(self) -> None:
        """A signalled edit (`request_review`), answered once saved or refused."""
        edit, self._edit = self._edit, None
        assert edit is not None
        refusal = None
        try:
            await self._apply_review(edit)
        except ActivityError as error:  # not saved: refused, the listing stays reviewable
            refusal = _error_message(error)
        self._status.answers = with_answer(
            self._status.answers, edit.request_id, REVIEW_SIGNAL, refusal
        )

    async def _remind(self, request: ListingInput) -> None:
        self._status.reminders_sent += 1
        n = self._status.reminders_sent
        email = SendEmail(
            template="listing_approval_reminder",
            to_email=request.staff_email,
            key=f"{request.product_id}-{n}",
            data={
                "product_id": request.product_id,
                "sku": self._status.sku,
                "title": self._status.title,
                "reminder": n,
                "waiting_hours": request.reminder_hours * n,
            },
        )
        # ABANDON: the reminder still goes out if staff answer while it is being sent.
        with contextlib.suppress(WorkflowAlreadyStartedError):  # sent already (e.g. a reset)
            await workflow.start_child_workflow(
                EMAIL_WORKFLOW,
                email,
                id=email_workflow_id(email.template, email.key),
                id_reuse_policy=id_reuse_policy(EMAIL_WORKFLOW),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"approval reminder {n} for {self._status.sku}",
            )

    async def _step(
        self, step: ListingStep, request: ListingInput | None = None, error: str = ""
    ) -> None:
        self._status.step = step
        workflow.set_current_details(f"{self._status.sku}: {step}")
        workflow.upsert_search_attributes([BUSINESS_STATUS.value_set(step)])
        if request is None:
            return
        await workflow.execute_activity(
            SET_PRODUCT_STATUS_ACTIVITY,
            SetProductStatus(
                product_id=request.product_id,
                status=step,
                error=error,
                workflow_id=workflow.info().workflow_id,
            ),
            **DATABASE,
        )

    def _result(self, status: str) -> ListingResult:
        return ListingResult(
            product_id=self._status.product_id,
            sku=self._status.sku,
            status=status,
            offer_id=self._status.offer_id,
            listing_id=self._status.listing_id,
        )

    @workflow.query(name="status")
    def status(self) -> ListingStatus:
        return self._status

    @workflow.signal(name=REVIEW_SIGNAL)
    def request_review(self, decision: ListingReview) -> None:
        """A staff review (the API's way), answered in the status. The handler emits no command:
        an edit is saved by the main coroutine (`_await_review`), so the task that holds this
        signal beside a timer or an activity result gives the same commands whichever the SDK
        hands the workflow first (docs/architecture.md, "Staff commands")."""
        refusal = review_refusal(self._status)
        if refusal is None:
            self._status.reviewing = True
            if decision.action == "edit":
                self._edit = decision  # answered once saved
                return
            self._review = decision
        self._status.answers = with_answer(
            self._status.answers, decision.request_id, REVIEW_SIGNAL, refusal
        )

    async def _apply_review(self, decision: ListingReview) -> None:
        self._status.reviewing = True
        if decision.action == "edit":
            try:
                copy = await workflow.execute_activity(
                    APPLY_EDIT_ACTIVITY,
                    ApplyEdit(product_id=self._status.product_id, review=decision),
                    result_type=ListingCopyResult,
                    **DATABASE,
                )
            except ActivityError:
                self._status.reviewing = False
                raise
            self._status.title = copy.title
            if workflow.patched(EDIT_SAVES_PATCH):
                # saved, not published: the reviewer edits again or approves separately
                self._status.edits += 1
                self._status.reviewing = False
                return
        self._review = decision

    # The update of the same command: no longer sent by the API, kept for runs and histories
    # that used it. Same rule.
    @workflow.update(name=REVIEW_UPDATE)
    async def review(self, decision: ListingReview) -> ListingStatus:
        await self._apply_review(decision)
        return self._status

    @review.validator
    def _validate_review(self, decision: ListingReview) -> None:
        if refusal := review_refusal(self._status):
            raise ValueError(refusal)
