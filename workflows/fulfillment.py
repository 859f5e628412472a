"""OrderFulfillmentWorkflow (id `order-{ebay_order_id}`): from a paid eBay order to delivery.

Record the order, confirmation email, inspection (child), shipment + label (child), tracking
uploaded to eBay, shipping email, then follow the tracking until delivered (poll timer, the
`tracking_refresh` signal checks now, continue-as-new on long loops) and mark the order complete.
A failed inspection, a failed label step or a staff `cancel` (only before the label stage) runs
the saga's compensations in reverse: refund on eBay, apology email, stock back. A failed
inspection first waits for the staff's `decide_failed_inspection` (refund now or contact the
buyer first; what happens to the unit), with the defaults of `domain/stock.py` on timeout; the
unit then goes where staff decided instead of back on sale.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    WorkflowAlreadyStartedError,
)

with workflow.unsafe.imports_passed_through():
    from domain.errors import VALIDATION_FAILED
    from domain.refunds import RefundReason
    from domain.stock import RefundTiming, UnitDisposition
    from temporal_client import (
        BUSINESS_STATUS,
        ORDER_ID,
        TRACKING_NUMBER,
        order_search_attributes,
    )
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.common import STATUS_QUERY, with_answer
    from workflows.contracts.email import EMAIL_WORKFLOW, EmailResult, SendEmail, email_workflow_id
    from workflows.contracts.fulfillment import (
        CANCEL_SIGNAL,
        CANCEL_UPDATE,
        CANCELLABLE_STEPS,
        DISPOSE_UNITS_ACTIVITY,
        FAILED_INSPECTION_DECISION_SIGNAL,
        FAILED_INSPECTION_DECISION_UPDATE,
        FULFILLMENT_WORKFLOW,
        RECORD_ORDER_ACTIVITY,
        REFUND_ORDER_ACTIVITY,
        RESTORE_STOCK_ACTIVITY,
        SET_ORDER_STATUS_ACTIVITY,
        TRACKING_REFRESH_SIGNAL,
        CancelOrder,
        CompensationState,
        DecisionState,
        DisposedUnits,
        DisposeUnits,
        FailedInspectionDecision,
        FulfillmentResult,
        FulfillmentResume,
        FulfillmentStatus,
        FulfillOrder,
        OrderRecord,
        RecordOrder,
        RefundOrder,
        RestoredStock,
        RestoreStock,
        SetOrderStatus,
        cancel_refusal,
        decision_refusal,
    )
    from workflows.contracts.inspection import (
        INSPECTION_WORKFLOW,
        InspectionInput,
        InspectionOutcome,
        inspection_workflow_id,
    )
    from workflows.contracts.label import (
        ENSURE_SHIPMENT_ACTIVITY,
        LABEL_WORKFLOW,
        TRACK_SHIPMENT_ACTIVITY,
        UPLOAD_TRACKING_ACTIVITY,
        EnsureShipment,
        LabelInput,
        LabelResult,
        ShipmentRef,
        TrackingSnapshot,
        TrackShipment,
        UploadTracking,
        label_workflow_id,
    )
    from workflows.contracts.ops import (
        CHECK_WORKFLOW_HEALTH_ACTIVITY,
        WorkflowHealth,
        WorkflowHealthCheck,
    )
    from workflows.contracts.policies import id_reuse_policy

FINISHED = ("completed", "cancelled", "refunded")
"""Order statuses after which a new run of the workflow has nothing to do."""

FAILED_INSPECTION_DECISION_PATCH = "failed-inspection-decision"
"""From this patch on, a failed inspection waits for the staff's decision (or its default) and
disposes of the unit as decided instead of putting it back on sale."""

LEAN_ORDER_PATCH = "batched-tracking"
"""Checked once, first thing in a run (each patch costs a `TemporalChangeVersion` upsert, a
billed action, in every run that uses it), and from it on:
- the order does not poll its carrier on a timer: the `tracking-refresh` schedule tracks every
  shipment in flight in batches and signals the order with the new status when it changed; a
  signal without a status (staff marked it delivered, a manual refresh) makes the order check
  once itself; signals not yet handled travel with the continue-as-new;
- `BusinessStatus` is upserted only for the steps an order can wait in (a person, a carrier,
  the label stage) and its end, with the tracking number in the same upsert; the passing steps
  are in the UI's details, which cost nothing;
- `OrderId` is not upserted again when the run started with it (a continued run, a start that
  set it)."""

SEARCHABLE_STEPS = (
    "inspecting",
    "labelling",
    "in_transit",
    "awaiting_decision",
    "contacting_buyer",
    "completed",
    "cancelled",
    "refunded",
)

INSPECTION_WATCH_PATCH = "inspection-child-watch"
"""From this patch on, the wait for the inspection child is bounded: every
`inspection_watch_minutes` the order looks at the child's health, and a child stuck on failing
workflow tasks is shown to staff (`attention`, one email, Sentry) instead of blocking unseen."""

ORDER_FAMILY_PATCH = "order-lean-family"
"""Checked first thing in a run in place of LEAN_ORDER_PATCH and INSPECTION_WATCH_PATCH (their
paths are taken without asking them): one marker and one billed `TemporalChangeVersion` upsert
per run instead of two. From it on the children are started `lean` too (no patch checks of
their own, see their inputs) and emails skip the separate suppression check. Runs from before
ask the two patches as they did."""

HEALTH_CHECK: dict[str, Any] = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=2)),
}
"""A look, not a step: a failed look is tried again at the next watch, never fails the order."""


class OrderStopped(Exception):
    """Internal: the order will not ship (inspection failed, cancelled, label impossible)."""

    def __init__(self, reason: str, outcome: str, about_item: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outcome = outcome
        self.about_item = about_item  # the item itself failed: staff decide about the unit


@workflow.defn(name=FULFILLMENT_WORKFLOW)
class OrderFulfillmentWorkflow:
    def __init__(self) -> None:
        self._status = FulfillmentStatus(ebay_order_id="", step="recording")
        self._cancel: CancelOrder | None = None
        self._cancel_pending: CancelOrder | None = None  # signalled; taken while inspecting
        self._refresh = False
        self._tracking_updates: list[TrackingSnapshot] = []  # signalled by the tracker
        self._lean = False  # LEAN_ORDER_PATCH: decided at the start of the run
        self._compensations: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        self._compensation_failures: list[str] = []
        self._decision: FailedInspectionDecision | None = None

    @workflow.run
    async def run(self, request: FulfillOrder) -> FulfillmentResult:
        self._status.ebay_order_id = request.ebay_order_id
        self._lean = self._lean_run()
        started_with = workflow.info().typed_search_attributes.get(ORDER_ID)
        if not self._lean or started_with != request.ebay_order_id:
            workflow.upsert_search_attributes([ORDER_ID.value_set(request.ebay_order_id)])
        if request.resume is None:
            ended = await self._fulfil(request)
        else:
            ended = await self._follow_tracking(request, request.resume)
        await workflow.wait_condition(workflow.all_handlers_finished)
        if isinstance(ended, FulfillmentResume):  # history budget spent: go on in a fresh run
            if self._lean:  # signals received but not handled go on in the next run
                ended = ended.model_copy(
                    update={"pending": self._tracking_updates, "refresh_pending": self._refresh}
                )
            workflow.continue_as_new(request.model_copy(update={"resume": ended}))
        if self._compensation_failures:
            raise ApplicationError(
                "compensation incomplete: " + "; ".join(self._compensation_failures),
                type="CompensationFailed",
                non_retryable=True,
            )
        return ended

    async def _fulfil(self, request: FulfillOrder) -> FulfillmentResult | FulfillmentResume:
        """The order's life: record, confirm, inspect, label, ship, follow the tracking; a
        failed inspection, an impossible label or a staff cancel stops it with compensations."""
        order = await self._record(request)
        if order.status in FINISHED:  # started again for an order already done: nothing to redo
            self._set_step(order.status)
            return FulfillmentResult(
                ebay_order_id=order.ebay_order_id,
                order_id=order.order_id,
                outcome=order.status,
            )
        try:
            self._raise_if_cancelled()
            await self._confirm(order)
            outcome = await self._inspect(request, order)
            if not outcome.passed:
                raise OrderStopped(
                    f"inspection failed: {outcome.notes}", "refunded", about_item=True
                )
            self._raise_if_cancelled()
            label = await self._label(request, order)
        except OrderStopped as stop:
            if stop.about_item and workflow.patched(FAILED_INSPECTION_DECISION_PATCH):
                await self._await_decision(request, order)
            return await self._stop(order, stop)
        except (ActivityError, ChildWorkflowError) as error:
            # nothing shipped yet: the buyer gets their money back rather than a stuck order
            workflow.logger.error("order %s cannot ship: %s", request.ebay_order_id, error)
            return await self._stop(
                order, OrderStopped(f"could not ship: {error.cause or error}", "refunded")
            )
        await self._ship(request, order, label)
        resume = FulfillmentResume(
            order_id=order.order_id,
            shipment_id=self._status.shipment_id,
            carrier=label.carrier,
            tracking_number=label.tracking_number,
        )
        return await self._follow_tracking(request, resume)

    # --- steps --------------------------------------------------------------------------------

    async def _record(self, request: FulfillOrder) -> OrderRecord:
        self._set_step("recording")
        order = await workflow.execute_activity(
            RECORD_ORDER_ACTIVITY,
            RecordOrder(
                ebay_order_id=request.ebay_order_id, workflow_id=workflow.info().workflow_id
            ),
            result_type=OrderRecord,
            summary="fetch order from eBay",
            **EXTERNAL,
        )
        self._status.order_id = order.order_id
        # Saga: the buyer has paid and eBay took the stock, so these undo the sale from here on.
        # Registered before the steps; they run in reverse (refund, apology, stock back).
        self._compensations = [
            ("stock", lambda: self._return_units(order)),
            ("apology", lambda: self._apologise(order)),
            ("refund", lambda: self._refund(order)),
        ]
        return order

    async def _confirm(self, order: OrderRecord) -> None:
        self._set_step("confirming")
        await self._email(
            order, "order_confirmation", {"items": [line.title for line in order.lines]}
        )

    async def _inspect(self, request: FulfillOrder, order: OrderRecord) -> InspectionOutcome:
        self._raise_if_cancelled()
        self._set_step("inspecting")
        await self._set_order_status(order, "inspecting")
        handle = await workflow.start_child_workflow(
            INSPECTION_WORKFLOW,
            InspectionInput(
                order_id=order.order_id,
                ebay_order_id=order.ebay_order_id,
                staff_email=request.staff_email,
                escalation_hours=request.inspection_escalation_hours,
                lean=True,
                versions_at_check=True,
            ),
            id=inspection_workflow_id(order.order_id),
            id_reuse_policy=id_reuse_policy(INSPECTION_WORKFLOW),
            result_type=InspectionOutcome,
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            static_summary=f"inspection of {order.ebay_order_id}",
            search_attributes=order_search_attributes(order.ebay_order_id, "inspecting"),
        )
        if workflow.patched(ORDER_FAMILY_PATCH) or workflow.patched(INSPECTION_WATCH_PATCH):
            await self._watch_child(handle.id, request, order, lambda: handle.done())
        else:  # histories from before the watch: an unbounded wait
            await workflow.wait_condition(lambda: handle.done() or self._cancelling())
        if not handle.done():
            if self._cancel is None and self._cancel_pending is not None:
                self._take_pending_cancel()
            handle.cancel()  # staff cancelled while waiting for the inspector
            self._raise_if_cancelled()
        outcome = await handle
        if outcome.passed:  # a decision taken ahead of the result (see decision_refusal)
            self._decision = None
        self._status.inspection_result = "passed" if outcome.passed else "failed"
        self._status.inspection_notes = outcome.notes
        return outcome

    async def _watch_child(
        self,
        child_id: str,
        request: FulfillOrder,
        order: OrderRecord,
        done: Callable[[], bool],
    ) -> None:
        """Wait for the child (or a staff cancel), looking at its health every
        `inspection_watch_minutes`. A slow child is left alone (the inspection escalates to staff
        itself); one whose workflow tasks keep failing (a bug, nondeterminism) sets `attention`,
        is reported to Sentry and mailed to staff once, until it recovers (after a fix or reset)."""
        every = timedelta(minutes=request.inspection_watch_minutes)
        notified = False
        while True:
            try:
                await workflow.wait_condition(
                    lambda: done() or self._cancelling(),
                    timeout=every,
                    timeout_summary="inspection health check",
                )
                return
            except TimeoutError:
                pass
            try:
                health = await workflow.execute_activity(
                    CHECK_WORKFLOW_HEALTH_ACTIVITY,
                    WorkflowHealthCheck(
                        workflow_id=child_id,
                        about=f"inspection of order {order.ebay_order_id}",
                        report=not self._status.attention,
                    ),
                    result_type=WorkflowHealth,
                    summary="inspection health check",
                    **HEALTH_CHECK,
                )
            except ActivityError as error:
                workflow.logger.warning("health check of %s failed: %s", child_id, error)
                continue
            if not health.failing:
                self._status.attention = ""
                continue
            self._status.attention = f"{child_id}: {health.summary()}"
            if not notified:
                notified = True
                await self._notify_stuck(request, order, child_id, health)

    async def _notify_stuck(
        self, request: FulfillOrder, order: OrderRecord, child_id: str, health: WorkflowHealth
    ) -> None:
        """One email to staff per stuck child (its ID is the dedupe key; a closed email is never
        sent again), started and left to run: the watch goes on meanwhile."""
        email = SendEmail(
            template="workflow_stuck",
            to_email=request.staff_email,
            to_name="Staff",
            key=child_id,
            data={
                "workflow_id": child_id,
                "order_id": order.order_id,
                "ebay_order_id": order.ebay_order_id,
                "problem": health.summary(),
            },
            categories=["ops"],
            suppression_in_send=True,
        )
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await workflow.start_child_workflow(
                EMAIL_WORKFLOW,
                email,
                id=email_workflow_id(email.template, email.key),
                id_reuse_policy=id_reuse_policy(EMAIL_WORKFLOW),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"{child_id} is stuck",
                search_attributes=order_search_attributes(order.ebay_order_id),
            )

    async def _label(self, request: FulfillOrder, order: OrderRecord) -> LabelResult:
        self._set_step("labelling")
        await self._set_order_status(order, "labelling")
        shipment = await workflow.execute_activity(
            ENSURE_SHIPMENT_ACTIVITY,
            EnsureShipment(order_id=order.order_id),
            result_type=ShipmentRef,
            **DATABASE,
        )
        self._status.shipment_id = shipment.shipment_id
        label = await workflow.execute_child_workflow(
            LABEL_WORKFLOW,
            LabelInput(
                shipment_id=shipment.shipment_id,
                order_id=order.order_id,
                max_transit_days=request.max_transit_days,
                preferred_carrier=request.preferred_carrier,
                preferred_service=request.preferred_service,
                rate_choice_seconds=request.rate_choice_seconds,
                lean=True,
            ),
            id=label_workflow_id(shipment.shipment_id),
            id_reuse_policy=id_reuse_policy(LABEL_WORKFLOW),
            result_type=LabelResult,
            parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
            static_summary=f"label for {order.ebay_order_id}",
            search_attributes=order_search_attributes(order.ebay_order_id),
        )
        self._status.carrier = label.carrier
        self._status.tracking_number = label.tracking_number
        if not self._lean:  # upserted with `in_transit` now
            workflow.upsert_search_attributes([TRACKING_NUMBER.value_set(label.tracking_number)])
        return label

    async def _ship(self, request: FulfillOrder, order: OrderRecord, label: LabelResult) -> None:
        self._set_step("uploading_tracking")
        await workflow.execute_activity(
            UPLOAD_TRACKING_ACTIVITY,
            UploadTracking(ebay_order_id=order.ebay_order_id, shipment_id=self._status.shipment_id),
            result_type=str,
            summary="tracking to eBay",
            **EXTERNAL,
        )
        self._set_step("notifying")
        await self._email(
            order,
            "shipping_notification",
            {
                "carrier": label.carrier,
                "service": label.service,
                "tracking_number": label.tracking_number,
            },
        )

    async def _follow_tracking(
        self, request: FulfillOrder, resume: FulfillmentResume
    ) -> FulfillmentResult | FulfillmentResume:
        """Poll until delivered; the resume state back when this run's history budget is spent."""
        self._status.order_id = resume.order_id
        self._status.shipment_id = resume.shipment_id
        self._status.carrier = resume.carrier
        self._status.tracking_number = resume.tracking_number
        self._status.inspection_result = "passed" if resume.inspection_passed else "failed"
        if self._lean:
            self._set_step("in_transit", [TRACKING_NUMBER.value_set(resume.tracking_number)])
            return await self._await_tracking(request, resume)
        workflow.upsert_search_attributes([TRACKING_NUMBER.value_set(resume.tracking_number)])
        self._set_step("in_transit")
        polls_this_run = 0
        while True:
            self._refresh = False  # a signal during the check below asks for the next one
            snapshot = await workflow.execute_activity(
                TRACK_SHIPMENT_ACTIVITY,
                TrackShipment(shipment_id=resume.shipment_id),
                result_type=TrackingSnapshot,
                **EXTERNAL,
            )
            resume.polls += 1
            polls_this_run += 1
            self._status.tracking_status = snapshot.status
            workflow.set_current_details(
                f"{resume.carrier} {resume.tracking_number}: {snapshot.status}"
            )
            if snapshot.delivered:
                break
            if resume.polls >= request.max_tracking_polls:
                # stop polling; the scheduled tracking refresh keeps the shipment row current
                return self._result(resume, "in_transit")
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._refresh,
                    timeout=timedelta(seconds=request.tracking_poll_seconds),
                    timeout_summary="next tracking check",
                )
            if (
                polls_this_run >= request.polls_per_run
                or workflow.info().is_continue_as_new_suggested()
            ):
                return resume
        await workflow.execute_activity(
            SET_ORDER_STATUS_ACTIVITY,
            SetOrderStatus(order_id=resume.order_id, status="completed"),
            **DATABASE,
        )
        self._set_step("completed")
        return self._result(resume, "completed")

    async def _await_tracking(
        self, request: FulfillOrder, resume: FulfillmentResume
    ) -> FulfillmentResult | FulfillmentResume:
        """Wait for the tracker's signals (no carrier call, no poll timer); one timer per run
        for the deadline after which the order is left in transit (`max_tracking_polls` x
        `tracking_poll_seconds` from the first run). Signals are handled in arrival order, at
        most `polls_per_run` per run; the rest go on with the continue-as-new."""
        self._tracking_updates[:0] = resume.pending
        self._refresh = self._refresh or resume.refresh_pending
        resume.pending, resume.refresh_pending = [], False
        self._status.tracking_status = resume.tracking_status
        if resume.deadline is None:
            window = request.tracking_poll_seconds * request.max_tracking_polls
            resume.deadline = workflow.now() + timedelta(seconds=window)
        expired = asyncio.create_task(
            workflow.sleep(
                max(resume.deadline - workflow.now(), timedelta(seconds=1)),
                summary="left in transit",
            )
        )
        handled = 0
        while True:
            await workflow.wait_condition(
                lambda: bool(self._tracking_updates) or self._refresh or expired.done()
            )
            if not self._tracking_updates and not self._refresh:
                return self._result(resume, "in_transit")  # the schedule keeps the row current
            snapshot = await self._next_tracking(resume)
            resume.polls += 1
            handled += 1
            self._status.tracking_status = resume.tracking_status = snapshot.status
            workflow.set_current_details(
                f"{resume.carrier} {resume.tracking_number}: {snapshot.status}"
            )
            if snapshot.delivered:
                break
            if handled >= request.polls_per_run or workflow.info().is_continue_as_new_suggested():
                expired.cancel()
                return resume
        expired.cancel()
        await workflow.execute_activity(
            SET_ORDER_STATUS_ACTIVITY,
            SetOrderStatus(order_id=resume.order_id, status="completed"),
            **DATABASE,
        )
        self._set_step("completed")
        return self._result(resume, "completed")

    async def _next_tracking(self, resume: FulfillmentResume) -> TrackingSnapshot:
        """The tracker's next status, else (a signal without one) the order checks once."""
        if self._tracking_updates:
            return self._tracking_updates.pop(0)
        self._refresh = False  # a signal during the check below asks for another
        return await workflow.execute_activity(
            TRACK_SHIPMENT_ACTIVITY,
            TrackShipment(shipment_id=resume.shipment_id),
            result_type=TrackingSnapshot,
            **EXTERNAL,
        )

    # --- compensation -------------------------------------------------------------------------

    async def _stop(self, order: OrderRecord, stop: OrderStopped) -> FulfillmentResult:
        self._set_step("compensating")
        self._status.compensation = CompensationState(reason=stop.reason)
        failures: list[str] = []
        for name, compensate in reversed(self._compensations):
            try:
                await compensate()
            except (ActivityError, ChildWorkflowError) as error:
                failures.append(f"{name}: {error.cause or error}")
        final = "cancelled" if stop.outcome == "cancelled" else "refunded"
        await workflow.execute_activity(
            SET_ORDER_STATUS_ACTIVITY,
            SetOrderStatus(order_id=order.order_id, status=final, cancel_reason=stop.reason),
            **DATABASE,
        )
        self._compensation_failures = failures  # the run fails with them once handlers finish
        if not failures:
            self._status.compensation.done = True
            self._set_step(final)
        return FulfillmentResult(
            ebay_order_id=order.ebay_order_id,
            order_id=order.order_id,
            outcome=final,
            shipment_id=self._status.shipment_id,
        )

    async def _refund(self, order: OrderRecord) -> None:
        assert self._status.compensation is not None
        self._status.compensation.refund_id = await workflow.execute_activity(
            REFUND_ORDER_ACTIVITY,
            RefundOrder(
                ebay_order_id=order.ebay_order_id,
                amount=order.total_value,
                currency=order.total_currency,
                reason=RefundReason.other,
                comment=self._status.compensation.reason[:100],
            ),
            result_type=str,
            summary="refund on eBay",
            **EXTERNAL,
        )
        self._status.compensation.refunded = True

    async def _apologise(self, order: OrderRecord) -> None:
        assert self._status.compensation is not None
        reason = self._cancel.reason if self._cancel else "the item did not pass our inspection"
        await self._email(
            order, "order_cancelled", {"reason": reason, "refund_amount": order.total_value}
        )
        self._status.compensation.apology_sent = True

    async def _await_decision(self, request: FulfillOrder, order: OrderRecord) -> None:
        """A failed inspection: staff decide (refund now or contact the buyer first; what
        happens to the unit). Nobody deciding within `decision_hours` means the defaults."""
        self._set_step("awaiting_decision")
        self._status.decision = DecisionState(
            deadline=self._deadline(request.decision_hours), received=self._decision is not None
        )
        if not await self._wait_for_decision(request.decision_hours):
            self._decision = FailedInspectionDecision(staff_id="default")
        assert self._decision is not None
        if self._decision.refund is RefundTiming.contact_buyer:
            first = self._decision
            self._decision = None  # the next decision is awaited from here on
            self._status.decision.received = False
            self._set_step("contacting_buyer")
            self._status.decision.deadline = self._deadline(request.buyer_contact_hours)
            await self._email(
                order,
                "inspection_issue",
                {"notes": self._status.inspection_notes, "refund_amount": order.total_value},
            )
            self._status.decision.buyer_contacted = True
            if not await self._wait_for_decision(request.buyer_contact_hours):
                # the contact window ended: the refund goes out, the unit as first decided
                self._decision = first.model_copy(update={"refund": RefundTiming.now})
        assert self._decision is not None
        self._status.decision.refund = self._decision.refund
        self._status.decision.unit = self._decision.unit
        self._status.decision.decided_by = self._decision.staff_id or "staff"

    async def _wait_for_decision(self, hours: float) -> bool:
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None,
                timeout=timedelta(hours=hours),
                timeout_summary="failed-inspection decision",
            )
        except TimeoutError:
            return False
        return True

    def _deadline(self, hours: float) -> str:
        return (workflow.now() + timedelta(hours=hours)).isoformat()

    async def _return_units(self, order: OrderRecord) -> None:
        """The stock step of the saga: the staff's decision about a failed unit, else (a cancel
        not about the item, or a history from before the decision) the unit goes back."""
        if self._decision is None:
            await self._restore_stock(order)
            return
        assert self._status.compensation is not None
        await workflow.execute_activity(
            DISPOSE_UNITS_ACTIVITY,
            DisposeUnits(
                order_id=order.order_id,
                disposition=self._decision.unit,
                condition=self._decision.condition,
                note=self._decision.note or self._status.inspection_notes,
            ),
            result_type=DisposedUnits,
            **EXTERNAL,
        )
        self._status.compensation.stock_restored = self._decision.unit is UnitDisposition.restock

    async def _restore_stock(self, order: OrderRecord) -> None:
        assert self._status.compensation is not None
        await workflow.execute_activity(
            RESTORE_STOCK_ACTIVITY,
            RestoreStock(
                order_id=order.order_id,
                reason=self._status.compensation.reason,
            ),
            result_type=RestoredStock,
            **EXTERNAL,
        )
        self._status.compensation.stock_restored = True

    # --- helpers ------------------------------------------------------------------------------

    async def _email(self, order: OrderRecord, template: str, data: dict[str, object]) -> None:
        """One email per (template, order) via the EmailWorkflow child; never fails the order."""
        if not order.buyer_email:
            workflow.logger.warning(
                "order %s has no buyer email: %s skipped", order.ebay_order_id, template
            )
            return
        email = SendEmail(
            template=template,
            to_email=order.buyer_email,
            to_name=order.buyer_name,
            key=order.ebay_order_id,
            data={"buyer_name": order.buyer_name, "ebay_order_id": order.ebay_order_id, **data},
            categories=["order"],
            suppression_in_send=True,
        )
        try:
            await workflow.execute_child_workflow(
                EMAIL_WORKFLOW,
                email,
                id=email_workflow_id(template, order.ebay_order_id),
                id_reuse_policy=id_reuse_policy(EMAIL_WORKFLOW),
                result_type=EmailResult,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                search_attributes=order_search_attributes(order.ebay_order_id),
            )
        except WorkflowAlreadyStartedError:
            pass  # this email was already sent for this order
        except ChildWorkflowError as error:
            workflow.logger.warning(
                "%s email for %s failed: %s", template, order.ebay_order_id, error
            )

    async def _set_order_status(self, order: OrderRecord, status: str) -> None:
        await workflow.execute_activity(
            SET_ORDER_STATUS_ACTIVITY,
            SetOrderStatus(order_id=order.order_id, status=status),
            **DATABASE,
        )

    def _set_step(self, step: str, also: list[SearchAttributeUpdate[Any]] | None = None) -> None:
        self._status.step = step  # type: ignore[assignment]
        self._refuse_pending_cancel()
        if step in SEARCHABLE_STEPS or not self._lean:
            workflow.upsert_search_attributes([*(also or []), BUSINESS_STATUS.value_set(step)])
        workflow.set_current_details(f"order {self._status.ebay_order_id}: {step}")

    def _lean_run(self) -> bool:
        """LEAN_ORDER_PATCH's paths: every run from ORDER_FAMILY_PATCH on takes them."""
        return workflow.patched(ORDER_FAMILY_PATCH) or workflow.patched(LEAN_ORDER_PATCH)

    def _raise_if_cancelled(self) -> None:
        if self._cancel is not None:
            raise OrderStopped(f"cancelled by staff: {self._cancel.reason}", "cancelled")

    def _result(self, resume: FulfillmentResume, outcome: str) -> FulfillmentResult:
        return FulfillmentResult(
            ebay_order_id=self._status.ebay_order_id,
            order_id=resume.order_id,
            outcome=outcome,
            shipment_id=resume.shipment_id,
            carrier=resume.carrier,
            tracking_number=resume.tracking_number,
        )

    # --- messages -----------------------------------------------------------------------------

    # Staff commands come as signals (the API's way), answered in the status query. The SDK may
    # hand a task's events over in one activation on one run and in two on another, so a
    # message's effect must not depend on being handled just before or just after the other
    # events of its task: an update's accept is placed among the main coroutine's commands and
    # cannot (TMPRL1100); these handlers emit nothing and their rules commute with the events
    # they share a task with (a decision ahead of the inspection's result is kept, a cancel is
    # taken in the watch's wait). The known gap is in docs/architecture.md, "Staff commands".

    @workflow.signal(name=CANCEL_SIGNAL)
    def request_cancel(self, request: CancelOrder) -> None:
        """A cancel is taken by the main coroutine only while it waits for the inspector (the
        watch's wait, which ends the same way whether the signal is handled before or after
        the task's other events) and refused when the order leaves the cancellable steps with it
        still pending: a check right after an activity or child result would stop the order on
        one run and not on another (a status query can run ahead of that task)."""
        refusal = cancel_refusal(self._status, request)
        if refusal is None:
            self._cancel_pending = request
            self._status.cancel_reason = request.reason.strip()
            return  # answered when taken or refused
        self._status.answers = with_answer(
            self._status.answers, request.request_id, CANCEL_SIGNAL, refusal
        )

    def _cancelling(self) -> bool:
        return self._cancel is not None or self._cancel_pending is not None

    def _take_pending_cancel(self) -> None:
        request, self._cancel_pending = self._cancel_pending, None
        assert request is not None
        self._accept_cancel(request)
        self._status.answers = with_answer(
            self._status.answers, request.request_id, CANCEL_SIGNAL, None
        )

    def _refuse_pending_cancel(self) -> None:
        """The order left the cancellable steps (its inspection ended, or it stopped) with a
        signalled cancel still pending: refused, with the rule's own message."""
        request = self._cancel_pending
        if request is None or self._status.step in CANCELLABLE_STEPS:
            return
        self._cancel_pending = None
        self._status.cancel_reason = ""
        refusal = cancel_refusal(self._status, request)
        self._status.answers = with_answer(
            self._status.answers, request.request_id, CANCEL_SIGNAL, refusal
        )

    @workflow.signal(name=FAILED_INSPECTION_DECISION_SIGNAL)
    def request_failed_inspection_decision(self, request: FailedInspectionDecision) -> None:
        refusal = decision_refusal(self._status, request, ahead_of_result=True)
        if refusal is None:
            self._accept_decision(request)
        self._status.answers = with_answer(
            self._status.answers, request.request_id, FAILED_INSPECTION_DECISION_SIGNAL, refusal
        )

    def _accept_cancel(self, request: CancelOrder) -> None:
        self._cancel = request
        self._status.cancel_reason = request.reason.strip()

    def _accept_decision(self, request: FailedInspectionDecision) -> None:
        self._decision = request
        if self._status.decision is not None:
            self._status.decision.received = True

    # The same commands as updates: no longer sent by the API, kept registered so that runs
    # which received them, and their histories (tests/histories/), replay. Same rules.

    @workflow.update(name=CANCEL_UPDATE)
    def cancel(self, request: CancelOrder) -> FulfillmentStatus:
        self._accept_cancel(request)
        return self._status

    @cancel.validator
    def _validate_cancel(self, request: CancelOrder) -> None:
        if refusal := cancel_refusal(self._status, request):
            raise ApplicationError(refusal, type=VALIDATION_FAILED)

    @workflow.update(name=FAILED_INSPECTION_DECISION_UPDATE)
    def decide_failed_inspection(self, request: FailedInspectionDecision) -> FulfillmentStatus:
        self._accept_decision(request)
        return self._status

    @decide_failed_inspection.validator
    def _validate_decision(self, request: FailedInspectionDecision) -> None:
        if refusal := decision_refusal(self._status, request):
            raise ApplicationError(refusal, type=VALIDATION_FAILED)

    @workflow.signal(name=TRACKING_REFRESH_SIGNAL)
    def tracking_refresh(self, update: TrackingSnapshot | None = None) -> None:
        """From the tracker, with the new status; without one, the order checks itself (a run
        from before the batched-tracking patch checks itself either way)."""
        # the patches, not `_lean`: the signal may be handled before the run starts
        if update is None or not self._lean_run():
            self._refresh = True
        if update is not None:
            self._tracking_updates.append(update)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> FulfillmentStatus:
        return self._status
