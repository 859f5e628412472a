"""Listing review: the Japanese source beside the English draft; save, approve, reject, and
approve a batch."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_202_ACCEPTED

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.pages.common import NOT_ANSWERED_YET, AnyRequest, back, form_values, pick
from api.console.render import page
from api.routes import products as api_products
from api.security.guards import STAFF
from api.temporal import TemporalGateway
from config import Settings
from models import ProductStatus

QUEUE = "/console/listings"
REVIEW = {
    "approve": api_products.approve_listing,
    "edit": api_products.edit_listing,
    "reject": api_products.reject_listing,
}


async def _review(
    request: AnyRequest,
    product_id: uuid.UUID,
    temporal: TemporalGateway,
    action: str,
    **extra: Any,
) -> bool:
    """True when the listing answered (accepted), False when it has the review but has not
    answered yet (202); a refusal raises the API's HTTPException."""
    sent = await REVIEW[action].fn(
        request=request, product_id=product_id, temporal=temporal, **extra
    )
    return sent.status_code != HTTP_202_ACCEPTED


@get("/listings", guards=[STAFF])
async def listings(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    waiting = await api_products.list_products.fn(
        settings=settings, status=ProductStatus.awaiting_approval, q=None, limit=200, offset=0
    )
    return page(request, "listings", page_=waiting)


@get("/listings/{product_id:uuid}", guards=[STAFF])
async def listing_review(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
) -> Template:
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    values = {
        "title": product.title_en,
        "description_html": product.description_html,
        "price_usd": product.price_usd,
    }
    return page(request, "listing_review", product=product, values=values, errors={})


@post("/listings/{product_id:uuid}/{action:str}", guards=[STAFF])
async def listing_decide(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    action: FromPath[str],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await form_values(request)
    here = f"/console/listings/{product_id}"
    try:
        if action == "save":
            edit = parse(
                api_products.Edit, pick(values, ("title", "description_html", "price_usd")), lang
            )
            if not await _review(request, product_id, temporal, "edit", data=edit):
                return back(request, here, gettext(lang, NOT_ANSWERED_YET))
            return back(request, here, gettext(lang, "Draft saved."))
        if action == "approve":
            if not await _review(request, product_id, temporal, "approve"):
                return back(request, here, gettext(lang, NOT_ANSWERED_YET))
            return back(request, QUEUE, gettext(lang, "Approved: publishing to eBay."))
        if action == "reject":
            reason = parse(api_products.Decision, pick(values, ("reason",)), lang)
            if not await _review(request, product_id, temporal, "reject", data=reason):
                return back(request, here, gettext(lang, NOT_ANSWERED_YET))
            return back(request, QUEUE, gettext(lang, "Rejected."))
    except FormInvalid as exc:
        product = await api_products.get_product.fn(product_id=product_id, settings=settings)
        return page(
            request,
            "listing_review",
            product=product,
            values=values,
            errors=exc.errors,
            status_code=400,
        )
    except HTTPException as exc:
        return back(request, here, problem(exc, lang), "error")
    raise NotFoundException(f"unknown action {action}")


@post("/listings/approve", guards=[STAFF])
async def listings_approve_batch(
    request: AnyRequest, temporal: NamedDependency[TemporalGateway]
) -> Redirect:
    lang = language_of(request)
    form = await request.form()
    approved, failed = 0, []
    for raw in form.getall("product_id", []):
        try:
            answered = await _review(request, uuid.UUID(str(raw)), temporal, "approve")
        except (ValueError, HTTPException):
            failed.append(str(raw))
            continue
        if answered:
            approved += 1
        else:  # sent, not confirmed within the wait: not counted as approved
            failed.append(str(raw))
    if not approved and not failed:
        return back(request, QUEUE, gettext(lang, "Select at least one listing."), "error")
    message = gettext(lang, "%(n)s listings approved.", n=approved)
    if failed:
        message += " " + gettext(lang, "%(n)s could not be approved.", n=len(failed))
    return back(request, QUEUE, message, "error" if failed else "ok")


ROUTES = [listings, listings_approve_batch, listing_review, listing_decide]
