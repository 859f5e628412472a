"""A second start with the same workflow ID after the first run closed: what happens is chosen per
workflow (workflows/contracts/policies.py), through the API's start helper and, for every
workflow type, on the server itself."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from temporalio import workflow
from temporalio.common import RawValue, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.worker import Worker

from api.workflows import start
from tests.workflows.fast.conftest import FakeWorld
from workflows.contracts.email import EMAIL_WORKFLOW, SendEmail, email_workflow_id
from workflows.contracts.ops import ORDER_SYNC_WORKFLOW
from workflows.contracts.policies import ID_REUSE, id_reuse_policy

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


@workflow.defn(dynamic=True, sandboxed=False)
class AnyWorkflow:
    """Stands for every workflow type: what a second start does is the server's, by policy."""

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> str:
        return workflow.info().run_id


@pytest.mark.parametrize("workflow_type", sorted(ID_REUSE))
async def test_second_start_after_close_follows_the_chosen_policy(
    time_skipping_env, workflow_type: str
) -> None:
    client = time_skipping_env.client
    task_queue = f"reuse-{uuid.uuid4().hex[:8]}"
    workflow_id = f"{workflow_type}-{uuid.uuid4().hex[:8]}"
    policy = id_reuse_policy(workflow_type)
    async with Worker(client, task_queue=task_queue, workflows=[AnyWorkflow]):
        first = await client.start_workflow(
            workflow_type, id=workflow_id, task_queue=task_queue, id_reuse_policy=policy
        )
        await first.result()
        try:
            again = await client.start_workflow(
                workflow_type, id=workflow_id, task_queue=task_queue, id_reuse_policy=policy
            )
        except WorkflowAlreadyStartedError:
            again = None
        if policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE:
            assert again is not None and await again.result() != first.result_run_id
        else:  # a completed email, order, batch, listing, inspection or label stands
            assert again is None
        if policy is WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY:  # ...a failed one not
            failed_id = f"{workflow_id}-failed"
            broken = await client.start_workflow(
                workflow_type, id=failed_id, task_queue="nobody-polls", id_reuse_policy=policy
            )
            await broken.terminate("stands for a failed run")
            retry = await client.start_workflow(
                workflow_type, id=failed_id, task_queue=task_queue, id_reuse_policy=policy
            )
            assert await retry.result() != broken.result_run_id
