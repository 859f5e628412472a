"""When a running workflow counts as stuck on its own code: its pending workflow task has failed
(or timed out) again and again. Temporal retries a failing workflow task forever and the
workflow stays "Running", so nothing else shows it. One rule for every reader: the metrics
gauge, the order's watch of its inspection child and the console's list of stuck workflows."""

from __future__ import annotations

NONDETERMINISM_CAUSES = ("NON_DETERMINISTIC_ERROR",)
"""WorkflowTaskFailed causes that mean the code no longer replays its own history: page."""


def workflow_task_failing(attempt: int, alert_attempts: int) -> bool:
    """`attempt` is the pending workflow task's attempt (1 = first try, 0 = none pending);
    `alert_attempts` is WORKFLOW_TASK_ALERT_ATTEMPTS."""
    return attempt >= alert_attempts


def failure_cause(enum_name: str) -> str:
    """`WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR` -> `NON_DETERMINISTIC_ERROR`."""
    return enum_name.removeprefix("WORKFLOW_TASK_FAILED_CAUSE_")


def is_nondeterminism(cause: str, message: str) -> bool:
    return (
        cause in NONDETERMINISM_CAUSES
        or "TMPRL1100" in message
        or ("nondetermin" in message.lower())
    )
