"""Names and models shared by the order workflows."""

from __future__ import annotations

from pydantic import BaseModel

STATUS_QUERY = "status"

ANSWERS_KEPT = 20
"""How many answers to staff commands a workflow's status query keeps (the latest)."""


class StaffAnswer(BaseModel):
    """A workflow's answer to a staff command sent as a signal, shown in its status query for
    the API that waits for it (api/workflows.py `command`): accepted, or refused with the rule's
    message (a refused command changed nothing)."""

    request_id: str
    command: str  # the signal's name
    accepted: bool
    reason: str = ""


def with_answer(
    answers: list[StaffAnswer], request_id: str, command: str, refusal: str | None
) -> list[StaffAnswer]:
    """`answers` plus this one, the latest `ANSWERS_KEPT` kept."""
    answer = StaffAnswer(
        request_id=request_id, command=command, accepted=refusal is None, reason=refusal or ""
    )
    return [*answers, answer][-ANSWERS_KEPT:]
