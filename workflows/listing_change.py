"""ListingChangeWorkflow (id `listing-{action}-{product_id}`): staff change a live listing.

- `push`: the product's price (`price_usd`, derived from yen when not set) and quantity reach
  the eBay offer in one bulk price/quantity call.
- `end`: the offer is withdrawn (the listing ends on eBay, the offer and SKU stay) and the
  product is marked ended.
- `relist`: the quantity we hold is pushed, then the same offer is published again and the
  product is marked listed.
Each step is one idempotent activity; the workflow is the record of who changed what, when.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from temporal_client import BUSINESS_STATUS, SKU
    from workflows.common import EXTERNAL
    from workflows.contracts.listing import ProductRef
    from workflows.contracts.listing_change import (
        END_LISTING_ACTIVITY,
        LISTING_CHANGE_WORKFLOW,
        PUSH_OFFER_ACTIVITY,
        RELIST_ACTIVITY,
        ListingChange,
        ListingChangeResult,
        OfferPush,
        OfferPushed,
    )


@workflow.defn(name=LISTING_CHANGE_WORKFLOW)
class ListingChangeWorkflow:
    @workflow.run
    async def run(self, change: ListingChange) -> ListingChangeResult:
        workflow.upsert_search_attributes([BUSINESS_STATUS.value_set(change.action)])
        ref = ProductRef(product_id=change.product_id)
        if change.action == "end":
            listing_id = await workflow.execute_activity(
                END_LISTING_ACTIVITY, ref, result_type=str, summary="end listing", **EXTERNAL
            )
            return ListingChangeResult(
                product_id=change.product_id, action="end", status="ended", listing_id=listing_id
            )
        pushed = await workflow.execute_activity(
            PUSH_OFFER_ACTIVITY,
            OfferPush(
                product_id=change.product_id,
                raise_quantity=change.raise_quantity or change.action == "relist",
            ),
            result_type=OfferPushed,
            summary="price and quantity to eBay",
            **EXTERNAL,
        )
        workflow.upsert_search_attributes([SKU.value_set(pushed.sku)])
        result = ListingChangeResult(
            product_id=change.product_id,
            action=change.action,
            status="listed",
            quantity=pushed.quantity,
            price_usd=pushed.price_usd,
        )
        if change.action == "relist":
            result.listing_id = await workflow.execute_activity(
                RELIST_ACTIVITY, ref, result_type=str, summary="publish again", **EXTERNAL
            )
        return result
