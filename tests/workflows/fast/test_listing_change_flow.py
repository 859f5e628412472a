"""ListingChangeWorkflow with fake catalog activities: a price push is one offer update, ending
withdraws the offer and nothing else, relisting pushes what we hold (raising eBay's quantity)
before publishing the same offer again. Each run is recorded for the replay test."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from temporal_client import BUSINESS_STATUS, SKU
from tests.workflows.conftest import record_history
from tests.workflows.fast.conftest import FakeWorld
from workflows.contracts.listing import ProductRef
from workflows.contracts.listing_change import (
    END_LISTING_ACTIVITY,
    PUSH_OFFER_ACTIVITY,
    RELIST_ACTIVITY,
    ListingAction,
    ListingChange,
    ListingChangeResult,
    OfferPush,
    listing_change_workflow_id,
)
from workflows.listing_change import ListingChangeWorkflow

pytestmark = pytest.mark.timeout(60)


async def _change(
    world: FakeWorld, action: ListingAction, product_id: str, **extra: bool
) -> tuple[ListingChangeResult, WorkflowHandle[Any, Any]]:
    handle = await world.client.start_workflow(
        ListingChangeWorkflow.run,
        ListingChange(product_id=product_id, action=action, staff_id="s1", **extra),
        id=listing_change_workflow_id(action, product_id),
        task_queue=world.task_queue,
    )
    return await handle.result(), handle


async def test_a_price_push_is_one_offer_update(world: FakeWorld) -> None:
    product_id = str(uuid.uuid4())
    result, handle = await _change(world, "push", product_id)
    assert world.activities.names() == [PUSH_OFFER_ACTIVITY]
    # staff did not change the quantity: eBay's own count (a sale not yet imported) is kept
    assert world.activities.args(PUSH_OFFER_ACTIVITY) == [
        OfferPush(product_id=product_id, raise_quantity=False)
    ]
    assert result == ListingChangeResult(
        product_id=product_id, action="push", status="listed", quantity=2, price_usd="129.00"
    )
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(SKU) == "CAM-1" and attributes.get(BUSINESS_STATUS) == "push"
    await record_history(handle, "listing_change_push")


async def test_a_quantity_change_by_staff_raises_ebays_count(world: FakeWorld) -> None:
    product_id = str(uuid.uuid4())
    await _change(world, "push", product_id, raise_quantity=True)
    assert world.activities.args(PUSH_OFFER_ACTIVITY) == [
        OfferPush(product_id=product_id, raise_quantity=True)
    ]


async def test_ending_withdraws_the_offer_only(world: FakeWorld) -> None:
    product_id = str(uuid.uuid4())
    result, handle = await _change(world, "end", product_id)
    assert world.activities.names() == [END_LISTING_ACTIVITY]
    assert world.activities.args(END_LISTING_ACTIVITY) == [ProductRef(product_id=product_id)]
    assert (result.status, result.listing_id, result.quantity) == ("ended", "listing-1", None)
    await record_history(handle, "listing_change_end")


async def test_relisting_pushes_what_we_hold_then_publishes_again(world: FakeWorld) -> None:
    product_id = str(uuid.uuid4())
    result, handle = await _change(world, "relist", product_id)
    assert world.activities.names() == [PUSH_OFFER_ACTIVITY, RELIST_ACTIVITY]
    assert world.activities.args(PUSH_OFFER_ACTIVITY) == [
        OfferPush(product_id=product_id, raise_quantity=True)  # the ended listing showed 0
    ]
    assert result == ListingChangeResult(
        product_id=product_id,
        action="relist",
        status="listed",
        listing_id="listing-1",
        quantity=2,
        price_usd="129.00",
    )
    await record_history(handle, "listing_change_relist")
