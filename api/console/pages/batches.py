"""Bulk listing: start a batch from the products list (the API's batch workflow, published
without review) and follow it on a page whose progress bar polls the workflow's query."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.pages.common import AnyRequest, back, json_error
from api.console.render import page
from api.routes import products as api_products
from api.security.guards import STAFF
from api.temporal import TemporalGateway
from config import Settings

PRODUCTS = "/console/products"


@post("/products/bulk", guards=[STAFF])
async def batch_start(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    form = await request.form()
    ids = [str(raw) for raw in form.getall("product_id", [])]
    if not ids:
        return back(request, PRODUCTS, gettext(lang, "Select at least one product."), "error")
    if form.get("without_review") != "yes":
        message = gettext(lang, "Confirm that the batch publishes the AI copy without review.")
        return back(request, PRODUCTS, message, "error")
    batch_id = uuid.uuid4().hex
    try:
        data = parse(
            api_products.BatchRequest,
            {"product_ids": ids, "without_review": True, "batch_id": batch_id},
            lang,
        )
        await api_products.start_batch.fn(data=data, settings=settings, temporal=temporal)
    except FormInvalid as exc:
        return back(request, PRODUCTS, " ".join(exc.errors.values()), "error")
    except HTTPException as exc:
        return back(request, PRODUCTS, problem(exc, lang), "error")
    return back(
        request,
        f"/console/batches/{batch_id}",
        gettext(lang, "Bulk listing started for %(n)s products.", n=len(ids)),
    )


@get("/batches/{batch_id:str}", guards=[STAFF])
async def batch_page(
    request: AnyRequest, batch_id: FromPath[str], temporal: NamedDependency[TemporalGateway]
) -> Template:
    progress = await api_products.batch_progress.fn(batch_id=batch_id, temporal=temporal)
    return page(request, "batch", progress=progress)


@get("/batches/{batch_id:str}/progress", guards=[STAFF])
async def batch_progress(
    request: AnyRequest, batch_id: FromPath[str], temporal: NamedDependency[TemporalGateway]
) -> Response[Any]:
    """The batch's progress for the page's script (the workflow's query)."""
    try:
        progress = await api_products.batch_progress.fn(batch_id=batch_id, temporal=temporal)
    except HTTPException as exc:
        return json_error(exc, language_of(request))
    return Response(progress.model_dump())


ROUTES = [batch_start, batch_page, batch_progress]
