"""The chaos run's verdict: pure checks over what was collected after the run (the emulators'
ledger, our database, Temporal's view of every workflow, the replay of every closed history).

Each check returns a row (name, ok, detail); the run fails when any row is not ok. Kept free of
I/O so that tests/bench/test_chaos_checks.py proves each check can fail on doctored data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXPECTED_EMAILS = {
    "completed": ("order_confirmation", "shipping_notification"),
    "refunded": ("order_confirmation", "order_cancelled"),
    "cancelled": ("order_confirmation", "order_cancelled"),
}
"""Templates each outcome sends, once per order (key `email-{template}-{ebay_order_id}`)."""
MAX_EMAIL_DUPLICATE_RATE = 0.01
"""Duplicates are counted; above this share of expected emails the run fails."""


@dataclass
class OrderFacts:
    ebay_order_id: str
    expected: str  # completed | refunded | cancelled
    outcome: str = ""  # the workflow's result, or "error: ..." when the driver gave up
    domestic: bool = False
    label_reference: str = ""  # label:{shipment_id} when a shipment exists
    kept_tracking_number: str = ""
    label_stored: bool = False  # the PDF (or the domestic hand-off CSV) is in the bucket
    stock_expected: int | None = None  # product quantity after the run, when it is decided
    stock_actual: int | None = None


@dataclass
class WorkflowFacts:
    workflow_id: str
    workflow_type: str
    status: str  # COMPLETED | FAILED | TIMED_OUT | TERMINATED | RUNNING | ...
    task_failures: list[str] = field(default_factory=list)  # WorkflowTaskFailed causes


@dataclass
class Facts:
    orders: list[OrderFacts]
    ledger: dict[str, dict[str, dict[str, Any]]]  # /_sandbox/ledger "ledger"
    workflows: list[WorkflowFacts]
    replay_failures: dict[str, str]  # workflow id -> error
    replayed: int
    duplicate_rows: dict[str, int]  # table/key -> number of keys held by more than one row
    email_resent_reasons: dict[str, str] = field(default_factory=dict)  # dedupe key -> reason


Row = tuple[str, bool, str]


def _count(ledger: dict[str, Any], service: str, kind: str, key: str | None = None) -> int:
    data = ledger.get(service, {}).get(kind, {"total": 0, "by_key": {}})
    return int(data["by_key"].get(key, 0) if key is not None else data["total"])


def _sample(items: list[str], n: int = 4) -> str:
    return ", ".join(items[:n]) + (f" (+{len(items) - n})" if len(items) > n else "")


def check_outcomes(facts: Facts) -> Row:
    wrong = [
        f"{o.ebay_order_id}: {o.outcome or 'none'} != {o.expected}"
        for o in facts.orders
        if o.outcome != o.expected
    ]
    counts = {k: sum(o.expected == k for o in facts.orders) for k in EXPECTED_EMAILS}
    detail = " / ".join(f"{n} {k}" for k, n in counts.items())
    return ("every order reached its expected outcome", not wrong, _sample(wrong) or detail)


def check_labels(facts: Facts) -> Row:
    """Per shipped order one billable label: bought under its reference minus the voided ones,
    with the kept label never voided and its document stored."""
    shipped = [o for o in facts.orders if o.expected == "completed"]
    problems: list[str] = []
    bought = cancelled_total = 0
    cancelled = facts.ledger.get("fedex", {}).get("label_cancelled", {"by_key": {}})["by_key"]
    for order in shipped:
        if not order.label_reference:
            problems.append(f"{order.ebay_order_id}: no shipment")
            continue
        if not order.label_stored:
            problems.append(f"{order.ebay_order_id}: label document not stored")
        if order.domestic:
            issued = _count(facts.ledger, "yamato", "label_issued", order.label_reference)
            issued += _count(facts.ledger, "sagawa", "label_issued", order.label_reference)
            if issued < 1:
                problems.append(f"{order.ebay_order_id}: no domestic hand-off issued")
            continue
        n = _count(facts.ledger, "fedex", "label_bought", order.label_reference)
        bought += n
        if n < 1:
            problems.append(f"{order.ebay_order_id}: no FedEx label bought")
        if cancelled.get(order.kept_tracking_number):
            problems.append(f"{order.ebay_order_id}: the kept label was voided")
    cancelled_total = sum(cancelled.values())
    international = sum(1 for o in shipped if not o.domestic and o.label_reference)
    if bought - cancelled_total != international:
        problems.append(f"bought {bought} - cancelled {cancelled_total} != {international}")
    for order in facts.orders:
        if order.expected != "completed" and order.label_reference:
            n = _count(facts.ledger, "fedex", "label_bought", order.label_reference)
            if n:
                problems.append(f"{order.ebay_order_id}: label bought for a stopped order")
    detail = (
        f"{international} FedEx + {len(shipped) - international} domestic; voided {cancelled_total}"
    )
    return (
        "one billable label + stored PDF per shipped order",
        not problems,
        _sample(problems) or detail,
    )


def check_fulfillments(facts: Facts) -> Row:
    problems = []
    for order in facts.orders:
        n = _count(facts.ledger, "ebay", "fulfillment", order.ebay_order_id)
        want = 1 if order.expected == "completed" else 0
        if n != want:
            problems.append(f"{order.ebay_order_id}: {n} fulfillments (want {want})")
    return ("one eBay fulfillment per shipped order", not problems, _sample(problems) or "ok")


def check_compensations(facts: Facts) -> Row:
    problems = []
    compensated = [o for o in facts.orders if o.expected in ("refunded", "cancelled")]
    for order in facts.orders:
        n = _count(facts.ledger, "ebay", "refund", order.ebay_order_id)
        want = 1 if order in compensated else 0
        if n != want:
            problems.append(f"{order.ebay_order_id}: {n} refunds (want {want})")
        if order.stock_expected is not None and order.stock_actual != order.stock_expected:
            problems.append(
                f"{order.ebay_order_id}: stock {order.stock_actual} (want {order.stock_expected})"
            )
    return (
        "one refund and the right stock per compensated order",
        not problems,
        _sample(problems) or f"{len(compensated)} compensated",
    )


def email_counts(facts: Facts) -> tuple[list[str], dict[str, int], int]:
    missing: list[str] = []
    duplicates: dict[str, int] = {}
    expected = 0
    for order in facts.orders:
        for template in EXPECTED_EMAILS.get(order.expected, ()):
            key = f"email-{template}-{order.ebay_order_id}"
            expected += 1
            n = _count(facts.ledger, "sendgrid", "email_accepted", key)
            if n == 0:
                missing.append(key)
            elif n > 1:
                duplicates[key] = n - 1
    return missing, duplicates, expected


def check_emails(facts: Facts) -> Row:
    missing, duplicates, expected = email_counts(facts)
    extra = sum(duplicates.values())
    rate = extra / expected if expected else 0.0
    reasons = sorted({facts.email_resent_reasons.get(k, "unknown") for k in duplicates})
    ok = not missing and rate <= MAX_EMAIL_DUPLICATE_RATE
    detail = f"{expected} expected, {len(missing)} missing, {extra} duplicates ({rate:.1%})"
    if missing:
        detail += f"; missing {_sample(missing)}"
    if duplicates:
        detail += f"; reasons: {'; '.join(reasons)}"
    return ("one email per (template, order)", ok, detail)


def check_workflows(facts: Facts) -> Row:
    bad = [
        f"{w.workflow_id} {w.status}"
        for w in facts.workflows
        if w.status not in ("COMPLETED", "CONTINUED_AS_NEW", "CANCELED")
    ]
    nondeterministic = [
        f"{w.workflow_id}: {cause}"
        for w in facts.workflows
        for cause in w.task_failures
        if "nondetermin" in cause.lower() or "TMPRL1100" in cause
    ]
    other_failures = sum(len(w.task_failures) for w in facts.workflows) - len(nondeterministic)
    problems = bad + nondeterministic
    detail = f"{len(facts.workflows)} workflows; {other_failures} other task failures"
    return (
        "no workflow failed, timed out, stuck or nondeterministic",
        not problems,
        _sample(problems) or detail,
    )


def check_replay(facts: Facts) -> Row:
    failures = [f"{wid}: {error[:80]}" for wid, error in facts.replay_failures.items()]
    ok = not failures and facts.replayed > 0
    return ("every closed history replays", ok, _sample(failures) or f"{facts.replayed} replayed")


def check_duplicate_rows(facts: Facts) -> Row:
    bad = [f"{k}: {n}" for k, n in facts.duplicate_rows.items() if n]
    return ("no duplicate rows in the database", not bad, _sample(bad) or "none")


CHECKS = (
    check_outcomes,
    check_labels,
    check_fulfillments,
    check_compensations,
    check_emails,
    check_workflows,
    check_replay,
    check_duplicate_rows,
)


def verdict(facts: Facts) -> list[Row]:
    return [check(facts) for check in CHECKS]


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def render(rows: list[Row]) -> str:
    return table([(("PASS " if ok else "FAIL ") + name, detail) for name, ok, detail in rows])
