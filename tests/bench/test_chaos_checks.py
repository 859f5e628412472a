"""The chaos run's checks can fail: each one is shown a consistent run (it passes) and then a
doctored one — a ledger, database or workflow list with exactly the defect it must catch."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from bench.chaos_checks import (
    CHECKS,
    Facts,
    OrderFacts,
    WorkflowFacts,
    check_compensations,
    check_duplicate_rows,
    check_emails,
    check_fulfillments,
    check_labels,
    check_outcomes,
    check_replay,
    check_workflows,
    render,
    verdict,
)


def _ledger(entries: list[tuple[str, str, str, int]]) -> dict:
    ledger: dict = {}
    for service, kind, key, n in entries:
        data = ledger.setdefault(service, {}).setdefault(kind, {"total": 0, "by_key": {}})
        data["by_key"][key] = data["by_key"].get(key, 0) + n
        data["total"] += n
    return ledger


def good_run() -> Facts:
    """Two shipped orders (one after a voided label), one failed inspection, one cancel."""
    orders = [
        OrderFacts("A", "completed", "completed", False, "label:a", "T-A", True),
        OrderFacts("B", "completed", "completed", False, "label:b", "T-B2", True),
        OrderFacts("C", "refunded", "refunded", stock_expected=1, stock_actual=1),
        OrderFacts("D", "cancelled", "cancelled", stock_expected=1, stock_actual=1),
    ]
    entries = [
        ("fedex", "label_bought", "label:a", 1),
        ("fedex", "label_bought", "label:b", 2),
        ("fedex", "label_cancelled", "T-B1", 1),
        ("ebay", "fulfillment", "A", 1),
        ("ebay", "fulfillment", "B", 1),
        ("ebay", "refund", "C", 1),
        ("ebay", "refund", "D", 1),
    ]
    for order, templates in (
        ("A", ("order_confirmation", "shipping_notification")),
        ("B", ("order_confirmation", "shipping_notification")),
        ("C", ("order_confirmation", "order_cancelled")),
        ("D", ("order_confirmation", "order_cancelled")),
    ):
        entries += [("sendgrid", "email_accepted", f"email-{t}-{order}", 1) for t in templates]
    return Facts(
        orders=orders,
        ledger=_ledger(entries),
        workflows=[
            WorkflowFacts(f"order-{o}", "OrderFulfillmentWorkflow", "COMPLETED") for o in "ABCD"
        ],
        replay_failures={},
        replayed=4,
        duplicate_rows={"orders.ebay_order_id": 0},
    )


def test_a_consistent_run_passes_every_check() -> None:
    rows = verdict(good_run())
    assert all(ok for _, ok, _ in rows), render(rows)
    assert len(rows) == len(CHECKS)


def _bump(facts: Facts, service: str, kind: str, key: str, n: int = 1) -> None:
    data = facts.ledger.setdefault(service, {}).setdefault(kind, {"total": 0, "by_key": {}})
    data["by_key"][key] = data["by_key"].get(key, 0) + n
    data["total"] += n


def _drop(facts: Facts, service: str, kind: str, key: str) -> None:
    data = facts.ledger[service][kind]
    data["total"] -= data["by_key"].pop(key)


DOCTORED: dict[str, tuple[Callable[[Facts], None], Callable[[Facts], tuple]]] = {
    "order stuck in another outcome": (
        lambda f: setattr(f.orders[0], "outcome", "error: no result in time"),
        check_outcomes,
    ),
    "second billable label": (lambda f: _bump(f, "fedex", "label_bought", "label:a"), check_labels),
    "label without its PDF": (lambda f: setattr(f.orders[1], "label_stored", False), check_labels),
    "kept label voided": (lambda f: _bump(f, "fedex", "label_cancelled", "T-A"), check_labels),
    "label bought for a refunded order": (  # type: ignore[dict-item]
        lambda f: (
            setattr(f.orders[2], "label_reference", "label:c"),  # type: ignore[func-returns-value]
            _bump(f, "fedex", "label_bought", "label:c"),  # type: ignore[func-returns-value]
        ),
        check_labels,
    ),
    "double eBay fulfillment": (lambda f: _bump(f, "ebay", "fulfillment", "A"), check_fulfillments),
    "missing eBay fulfillment": (
        lambda f: _drop(f, "ebay", "fulfillment", "B"),
        check_fulfillments,
    ),
    "double refund": (lambda f: _bump(f, "ebay", "refund", "C"), check_compensations),
    "refund of a shipped order": (lambda f: _bump(f, "ebay", "refund", "A"), check_compensations),
    "stock not restored": (lambda f: setattr(f.orders[3], "stock_actual", 0), check_compensations),
    "missing email": (
        lambda f: _drop(f, "sendgrid", "email_accepted", "email-order_cancelled-D"),
        check_emails,
    ),
    "duplicate emails above 1%": (
        lambda f: _bump(f, "sendgrid", "email_accepted", "email-order_confirmation-A"),
        check_emails,
    ),
    "failed child workflow": (
        lambda f: f.workflows.append(WorkflowFacts("email-x", "EmailWorkflow", "FAILED")),
        check_workflows,
    ),
    "stuck workflow": (
        lambda f: f.workflows.append(
            WorkflowFacts("inspection-x", "InspectionWorkflow", "RUNNING")
        ),
        check_workflows,
    ),
    "nondeterminism in a task": (
        lambda f: f.workflows[0].task_failures.append("[TMPRL1100] Nondeterminism error: x"),
        check_workflows,
    ),
    "history that does not replay": (
        lambda f: f.replay_failures.update({"order-A": "TMPRL1100"}),
        check_replay,
    ),
    "nothing replayed": (lambda f: setattr(f, "replayed", 0), check_replay),
    "duplicate rows": (
        lambda f: f.duplicate_rows.update({"orders.ebay_order_id": 1}),
        check_duplicate_rows,
    ),
}


@pytest.mark.parametrize("defect", list(DOCTORED))
def test_each_check_fails_on_its_defect(defect: str) -> None:
    doctor, check = DOCTORED[defect]
    facts = copy.deepcopy(good_run())
    assert check(facts)[1], "the consistent run must pass first"
    doctor(facts)
    name, ok, detail = check(facts)
    assert not ok, f"{name} did not notice: {defect}"
    print(f"FAIL {name}: {detail}  <- {defect}")


def test_every_check_has_a_defect_it_catches() -> None:
    covered = {check for _, check in DOCTORED.values()}
    assert covered == set(CHECKS)
