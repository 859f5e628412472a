"""A second start with the same workflow ID after the first run closed: what happens is chosen per
workflow (workflows/contracts/policies.py), through the API's start helper."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from api.workflows import start
from tests.workflows.fast.conftest import FakeWorld
from workflows.contracts.email import EMAIL_WORKFLOW, SendEmail, email_workflow_id
from workflows.contracts.ops import ORDER_SYNC_WORKFLOW
from workflows.contracts.policies import ID_REUSE

pytestmark = pytest.mark.timeout(60)


def test_every_workflow_started_by_id_has_a_policy() -> None:
    from workflows.contracts.fulfillment import FULFILLMENT_WORKFLOW
    from workflows.contracts.inspection import INSPECTION_WORKFLOW
    from workflows.contracts.label import LABEL_WORKFLOW
    from workflows.contracts.listing import BULK_LISTING_WORKFLOW, LISTING_WORKFLOW
    from workflows.contracts.listing_change import LISTING_CHANGE_WORKFLOW

    assert set(ID_REUSE) == {
        EMAIL_WORKFLOW,
        FULFILLMENT_WORKFLOW,
        INSPECTION_WORKFLOW,
        LABEL_WORKFLOW,
        LISTING_WORKFLOW,
        BULK_LISTING_WORKFLOW,
        ORDER_SYNC_WORKFLOW,
        LISTING_CHANGE_WORKFLOW,
    }


async def test_a_closed_email_is_never_started_again(world: FakeWorld) -> None:
    settings = SimpleNamespace(temporal_task_queue=world.task_queue)
    email = SendEmail(template="order_confirmation", to_email="b@example.com", key=uuid.uuid4().hex)
    workflow_id = email_workflow_id(email.template, email.key)
    first = await start(world.client, settings, EMAIL_WORKFLOW, email, workflow_id)
    assert not first.already_started
    await world.client.get_workflow_handle(workflow_id).result()
    second = await start(world.client, settings, EMAIL_WORKFLOW, email, workflow_id)
    assert second.already_started and second.run_id == first.run_id
    sends = [e for e in world.activities.args("email.send") if e.key == email.key]
    assert len(sends) == 1
