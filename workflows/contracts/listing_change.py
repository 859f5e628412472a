"""Contract of ListingChangeWorkflow (id `listing-{action}-{product_id}`): a change to a product
that is (or was) live on eBay — push its price and quantity to the offer, end the listing
(withdraw the offer), or relist it (publish the same offer again).

One run per (action, product) at a time; a closed run's id may be used again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

LISTING_CHANGE_WORKFLOW = "ListingChangeWorkflow"

ListingAction = Literal["push", "end", "relist"]


def listing_change_workflow_id(action: ListingAction, product_id: str) -> str:
    return f"listing-{action}-{product_id}"


PUSH_OFFER_ACTIVITY = "catalog.push_offer"
END_LISTING_ACTIVITY = "catalog.end_listing"
RELIST_ACTIVITY = "catalog.relist"


class ListingChange(BaseModel):
    """Input of ListingChangeWorkflow. `raise_quantity`: staff changed the quantity themselves,
    so eBay gets exactly what we hold (else never more than eBay already shows)."""

    product_id: str
    action: ListingAction
    raise_quantity: bool = False
    staff_id: str = ""


class OfferPush(BaseModel):
    product_id: str
    raise_quantity: bool = False


class OfferPushed(BaseModel):
    sku: str
    quantity: int
    price_usd: str


class ListingChangeResult(BaseModel):
    product_id: str
    action: ListingAction
    status: str  # the product's status afterwards
    listing_id: str = ""
    quantity: int | None = None
    price_usd: str = ""
