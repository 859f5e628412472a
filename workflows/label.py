"""LabelWorkflow (id `label-{shipment_id}`): rate shopping and exactly one label.

Quotes come from every carrier that serves the route; the policy picks the cheapest quote within
`max_transit_days` unless the input prefers a carrier/service or staff choose one through the
`request_rate_choice` signal while the window is open (answered in the status query). The
purchase activity guarantees one billable label (see activities/shipping.py). FedEx returns a
PDF (stored in S3, only its key comes back); Yamato and Sagawa return the CSV hand-off
(documents/{carrier}/{shipment_id}.csv) and the workflow waits for the tracking number: typed in
by staff (`submit_tracking`) or read from the carrier's issued-history file
(`import_issued_history`). Those two stay updates: they are accepted only while the main
coroutine is parked on the tracking number with no timer, so no workflow task holds both their
accept and a command of the main coroutine (docs/architecture.md, "Staff commands").
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import ADDRESS_NOT_LATIN, VALIDATION_FAILED
    from domain.tracking import is_jp_tracking_number
    from temporal_client import BUSINESS_STATUS, TRACKING_NUMBER
    from workflows.common import DATABASE, EXTERNAL
    from workflows.contracts.common import STATUS_QUERY, StaffAnswer, with_answer
    from workflows.contracts.label import (
        BUY_LABEL_ACTIVITY,
        CHOOSE_RATE_SIGNAL,
        CHOOSE_RATE_UPDATE,
        IMPORT_ISSUED_HISTORY_ACTIVITY,
        IMPORT_ISSUED_HISTORY_UPDATE,
        LABEL_WORKFLOW,
        QUOTE_RATES_ACTIVITY,
        RECORD_TRACKING_ACTIVITY,
        SUBMIT_TRACKING_UPDATE,
        BoughtLabel,
        BuyLabel,
        ChooseRate,
        ImportHistoryRequest,
        ImportIssuedHistory,
        LabelInput,
        LabelResult,
        LabelStatus,
        LabelStep,
        Quote,
        QuoteRates,
        RecordTracking,
        SubmitTracking,
        rate_choice_refusal,
    )

HISTORY_KEY_PREFIXES = ("documents/", "temp/")

EVERY_STEP_SEARCHABLE = "label-every-step-searchable"
"""Patch: runs started before it upserted `BusinessStatus` only when quoting, awaiting the
tracking number and ready; later runs upsert it on every step."""
SEARCHABLE_BEFORE_PATCH = ("quoting", "awaiting_tracking", "label_ready")
SEARCHABLE_WHEN_LEAN = ("choosing", "awaiting_tracking", "label_ready")
"""A `lean` label (LabelInput.lean) upserts `BusinessStatus` for the steps it waits for a person
in, and its end: quoting and buying pass in seconds (the order says `labelling` meanwhile, and a
retrying activity is on the workflow's page, not in visibility)."""


def pick_quote(
    quotes: list[Quote], max_transit_days: int, carrier: str = "", service: str = ""
) -> Quote:
    """The preferred quote when it was offered; else the cheapest arriving within the limit;
    else the fastest. Ties go to the quicker, then the carrier name (deterministic)."""
    if carrier:
        preferred = [
            q for q in quotes if q.carrier == carrier and (not service or q.service == service)
        ]
        if preferred:
            return min(preferred, key=lambda q: Decimal(q.amount))
    in_time = [
        q for q in quotes if q.transit_days is not None and q.transit_days <= max_transit_days
    ]
    if in_time:
        return min(
            in_time, key=lambda q: (Decimal(q.amount), q.transit_days or 0, q.carrier, q.service)
        )
    return min(
        quotes,
        key=lambda q: (q.transit_days if q.transit_days is not None else 999, Decimal(q.amount)),
    )


def raise_refusal(error: ActivityError) -> None:
    """A shipment refused by our own rules (e.g. a non-Latin address abroad) fails the workflow
    with the rule's own message, so the order and staff read the reason, not "activity failed"."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == ADDRESS_NOT_LATIN:
        raise ApplicationError(cause.message, type=cause.type, non_retryable=True) from error


@workflow.defn(name=LABEL_WORKFLOW)
class LabelWorkflow:
    def __init__(self) -> None:
        self._shipment_id = ""
        self._step: LabelStep = "quoting"
        self._quotes: list[Quote] = []
        self._chosen: Quote | None = None
        self._staff_choice: Quote | None = None
        self._bought: BoughtLabel | None = None
        self._tracking = ""
        self._lean = False
        self._answers: list[StaffAnswer] = []
        self._early_choice: ChooseRate | None = None  # came while quoting: checked at `choosing`

    @workflow.run
    async def run(self, request: LabelInput) -> LabelResult:
        self._shipment_id = request.shipment_id
        self._lean = request.lean
        self._enter("quoting", "quoting every carrier")
        self._quotes = await self._quote(request)
        self._chosen = pick_quote(
            self._quotes,
            request.max_transit_days,
            request.preferred_carrier,
            request.preferred_service,
        )
        if request.rate_choice_seconds > 0:
            await self._let_staff_choose(request.rate_choice_seconds)
        self._bought = await self._buy(request.shipment_id, self._chosen)
        self._tracking = self._bought.tracking_number
        if not self._tracking:
            await self._await_tracking(request.shipment_id)
        self._enter("label_ready", f"{self._bought.carrier} {self._tracking}")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    # --- steps --------------------------------------------------------------------------------

    async def _quote(self, request: LabelInput) -> list[Quote]:
        try:
            quotes = await workflow.execute_activity(
                QUOTE_RATES_ACTIVITY,
                QuoteRates(shipment_id=request.shipment_id),
                result_type=list[Quote],
                summary="quote every carrier",
                **EXTERNAL,
            )
        except ActivityError as error:
            raise_refusal(error)
            raise
        if not quotes:
            raise ApplicationError(
                "no carrier serves this route", type="NoCarrier", non_retryable=True
            )
        return quotes

    async def _let_staff_choose(self, window_seconds: float) -> None:
        """The policy's pick stands unless staff `choose_rate` another quote within the window."""
        assert self._chosen is not None
        self._enter(
            "choosing",
            f"policy: {self._chosen.carrier} {self._chosen.service}; staff may choose another",
        )
        if self._early_choice is not None:
            early, self._early_choice = self._early_choice, None
            self._choose(early)
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._staff_choice is not None,
                timeout=timedelta(seconds=window_seconds),
                timeout_summary="rate choice window",
            )
        if self._staff_choice is not None:
            self._chosen = self._staff_choice

    async def _buy(self, shipment_id: str, chosen: Quote) -> BoughtLabel:
        try:
            return await self._buy_once(shipment_id, chosen)
        except ActivityError as error:
            raise_refusal(error)
            raise

    async def _buy_once(self, shipment_id: str, chosen: Quote) -> BoughtLabel:
        self._enter(
            "buying",
            f"buying {chosen.carrier} {chosen.service} ({chosen.amount} {chosen.currency})",
        )
        return await workflow.execute_activity(
            BUY_LABEL_ACTIVITY,
            BuyLabel(
                shipment_id=shipment_id,
                carrier=chosen.carrier,
                service=chosen.service,
                amount=chosen.amount,
                currency=chosen.currency,
            ),
            result_type=BoughtLabel,
            summary=f"buy {chosen.carrier} label",
            **EXTERNAL,
        )

    async def _await_tracking(self, shipment_id: str) -> None:
        """A CSV hand-off has no tracking number yet: staff type it in or import the carrier's
        issued-history file (the updates below); then it is recorded on the shipment."""
        assert self._bought is not None
        self._enter(
            "awaiting_tracking",
            f"{self._bought.carrier} CSV at {self._bought.handoff_key}: waiting for tracking",
        )
        await workflow.wait_condition(lambda: bool(self._tracking))
        await workflow.execute_activity(
            RECORD_TRACKING_ACTIVITY,
            RecordTracking(
                shipment_id=shipment_id,
                carrier=self._bought.carrier,
                tracking_number=self._tracking,
            ),
            **DATABASE,
        )

    def _enter(self, step: LabelStep, details: str) -> None:
        """The bookkeeping of a step: the `status` query, the `BusinessStatus` search attribute
        (the same word) and the details shown in the Temporal UI."""
        self._step = step
        workflow.set_current_details(details)
        if self._lean:
            searchable = step in SEARCHABLE_WHEN_LEAN
        else:
            searchable = step in SEARCHABLE_BEFORE_PATCH or workflow.patched(EVERY_STEP_SEARCHABLE)
        if searchable:
            attributes = [BUSINESS_STATUS.value_set(step)]
            if step == "label_ready":
                attributes.insert(0, TRACKING_NUMBER.value_set(self._tracking))
            workflow.upsert_search_attributes(attributes)

    def _result(self) -> LabelResult:
        assert self._bought is not None
        return LabelResult(
            shipment_id=self._shipment_id,
            carrier=self._bought.carrier,
            service=self._bought.service,
            tracking_number=self._tracking,
            label_key=self._bought.label_key,
            handoff_key=self._bought.handoff_key,
            cost_amount=self._bought.cost_amount,
            cost_currency=self._bought.cost_currency,
        )

    # --- messages ---------------------------------------------------------------------------

    @workflow.signal(name=CHOOSE_RATE_SIGNAL)
    def request_rate_choice(self, choice: ChooseRate) -> None:
        """Staff choose a rate (the API's way): a signal, unlike an update whose accept would
        sit among the main coroutine's commands (the window's upsert and timer, or the purchase
        once it closed) and swap with them on replay. The answer goes to the status."""
        if self._step == "quoting" and self._early_choice is None:
            # A status query can run ahead of the task holding the quotes (staff then see the
            # window open and choose), and the SDK may deliver the quotes and this signal in one
            # activation on one run and in two on another (after a worker restart): kept and
            # checked when the window opens, so both runs give the same commands.
            self._early_choice = choice
            return
        self._choose(choice)

    def _choose(self, choice: ChooseRate) -> None:
        refusal = rate_choice_refusal(self.status(), choice)
        if refusal is None:
            self._take_choice(choice)
        self._answers = with_answer(self._answers, choice.request_id, CHOOSE_RATE_SIGNAL, refusal)

    def _take_choice(self, choice: ChooseRate) -> None:
        self._staff_choice = next(
            q for q in self._quotes if q.carrier == choice.carrier and q.service == choice.service
        )

    # The update of the same command: no longer sent by the API, kept for runs and histories
    # that used it. Same rule.
    @workflow.update(name=CHOOSE_RATE_UPDATE)
    def choose_rate(self, choice: ChooseRate) -> LabelStatus:
        self._take_choice(choice)
        return self.status()

    @choose_rate.validator
    def _validate_choose_rate(self, choice: ChooseRate) -> None:
        if refusal := rate_choice_refusal(self.status(), choice):
            raise ApplicationError(refusal, type=VALIDATION_FAILED)

    # Tracking numbers stay updates: the main coroutine waits for one with no timer and emits
    # nothing until a handler sets it, so their accept never shares a task with its commands.
    @workflow.update(name=SUBMIT_TRACKING_UPDATE)
    def submit_tracking(self, submission: SubmitTracking) -> LabelStatus:
        self._tracking = submission.tracking_number.strip()
        return self.status()

    @submit_tracking.validator
    def _validate_submit_tracking(self, submission: SubmitTracking) -> None:
        self._expect_tracking()
        number = submission.tracking_number.strip()
        if not is_jp_tracking_number(number):
            carrier = self._bought.carrier if self._bought else "the carrier"
            raise ApplicationError(
                f"{number!r} is not a {carrier} tracking number (12 digits, last = first 11 mod 7)",
                type=VALIDATION_FAILED,
            )

    @workflow.update(name=IMPORT_ISSUED_HISTORY_UPDATE)
    async def import_issued_history(self, request: ImportIssuedHistory) -> LabelStatus:
        assert self._bought is not None  # guaranteed by the validator
        try:
            tracking = await workflow.execute_activity(
                IMPORT_ISSUED_HISTORY_ACTIVITY,
                ImportHistoryRequest(
                    shipment_id=self._shipment_id, carrier=self._bought.carrier, key=request.key
                ),
                result_type=str,
                **EXTERNAL,
            )
        except ActivityError as error:  # reject the update with the activity's own message
            cause = error.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(error)
            raise ApplicationError(message, type=VALIDATION_FAILED) from error
        if not self._tracking:
            self._tracking = tracking
        return self.status()

    @import_issued_history.validator
    def _validate_import(self, request: ImportIssuedHistory) -> None:
        self._expect_tracking()
        if not request.key.startswith(HISTORY_KEY_PREFIXES):
            raise ApplicationError(
                f"the history file key must start with {' or '.join(HISTORY_KEY_PREFIXES)}",
                type=VALIDATION_FAILED,
            )

    def _expect_tracking(self) -> None:
        if self._step != "awaiting_tracking" or self._tracking:
            raise ApplicationError(
                f"no tracking number expected now (step {self._step})", type=VALIDATION_FAILED
            )

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> LabelStatus:
        bought = self._bought
        return LabelStatus(
            shipment_id=self._shipment_id,
            step=self._step,
            quotes=self._quotes,
            chosen=self._chosen,
            carrier=bought.carrier if bought else "",
            service=bought.service if bought else "",
            tracking_number=self._tracking,
            label_key=bought.label_key if bought else "",
            handoff_key=bought.handoff_key if bought else "",
            staff_chose=self._staff_choice is not None or self._early_choice is not None,
            answers=self._answers,
        )
