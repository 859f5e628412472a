"""The console's pages. Every read and every action runs the JSON API route's own function
(`handler.fn`): the same validation models, the same database rules and the same workflow
updates, so the console adds pages, not a second business layer. Guards are the API's guards
(the session yields the same `AuthUser` the JWT does)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.render import page, remember
from api.routes import inspections as api_inspections
from api.routes import operations as api_operations
from api.routes import orders as api_orders
from api.routes import products as api_products
from api.routes import shipments as api_shipments
from api.routes import users as api_users
from api.security.guards import ADMIN, ANY_ROLE, INSPECTOR, STAFF
from api.services import Services
from api.temporal import TemporalGateway
from api.today import today_counts
from config import Settings
from models import Condition, OrderStatus, ProductStatus, Role, ShipmentStatus

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50


async def _form(request: AnyRequest) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "_csrf_token"}


def _back(request: AnyRequest, path: str, message: str, kind: str = "ok") -> Redirect:
    remember(request, message, kind)
    return Redirect(path, status_code=303)


async def _json(request: AnyRequest) -> dict[str, Any]:
    body = await request.json()
    return body if isinstance(body, dict) else {}


def _json_error(exc: HTTPException | FormInvalid, lang: str) -> Response[dict[str, Any]]:
    if isinstance(exc, FormInvalid):
        return Response({"detail": " ".join(exc.errors.values())}, status_code=422)
    return Response({"detail": problem(exc, lang)}, status_code=exc.status_code)


# Today ----------------------------------------------------------------------------------------


@get("/", guards=[ANY_ROLE], name="console_today")
async def today(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    return page(request, "today", counts=await today_counts(settings))


# Products -------------------------------------------------------------------------------------


FORM_FIELDS = [
    "sku",
    "title_ja",
    "description_ja",
    "brand",
    "category_hint",
    "condition",
    "condition_notes",
    "price_jpy",
    "quantity",
    "weight_g",
    "length_cm",
    "width_cm",
    "height_cm",
    "hs_code",
]


@get("/products", guards=[STAFF])
async def products(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    q: str = Parameter(default="", max_length=100),
    status: str = Parameter(default="", max_length=30),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    chosen = ProductStatus(status) if status in ProductStatus.__members__.values() else None
    found = await api_products.list_products.fn(
        settings=settings, status=chosen, q=q or None, limit=PAGE_SIZE, offset=offset
    )
    return page(request, "products", page_=found, q=q, status=status, statuses=list(ProductStatus))


@get("/products/new", guards=[STAFF])
async def product_new(request: AnyRequest) -> Template:
    return page(
        request, "product_form", product=None, values={}, errors={}, conditions=list(Condition)
    )


@post("/products/new", guards=[STAFF])
async def product_create(
    request: AnyRequest, settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(api_products.ProductCreate, {k: values.get(k, "") for k in FORM_FIELDS}, lang)
        created = await api_products.create_product.fn(data=data, settings=settings)
    except FormInvalid as exc:
        return page(
            request,
            "product_form",
            product=None,
            values=values,
            errors=exc.errors,
            conditions=list(Condition),
            status_code=400,
        )
    except HTTPException as exc:
        errors = {"sku": problem(exc, lang)} if exc.status_code == 409 else {}
        return page(
            request,
            "product_form",
            product=None,
            values=values,
            errors=errors,
            error=None if errors else problem(exc, lang),
            conditions=list(Condition),
            status_code=400,
        )
    return _back(
        request,
        f"/console/products/{created.id}",
        gettext(lang, "Product created. Add photos next."),
    )


@get("/products/{product_id:uuid}", guards=[STAFF])
async def product_edit(
    request: AnyRequest, product_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Template:
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    return page(
        request,
        "product_form",
        product=product,
        values=product.model_dump(),
        errors={},
        conditions=list(Condition),
    )


@post("/products/{product_id:uuid}", guards=[STAFF])
async def product_update(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    try:
        fields = {k: values.get(k, "") for k in FORM_FIELDS if k != "sku"}
        data = parse(api_products.ProductUpdate, fields, lang)
        await api_products.update_product.fn(
            product_id=product_id, data=data, settings=settings, services=services
        )
    except FormInvalid as exc:
        return page(
            request,
            "product_form",
            product=product,
            values={**values, "sku": product.sku},
            errors=exc.errors,
            conditions=list(Condition),
            status_code=400,
        )
    except HTTPException as exc:
        return page(
            request,
            "product_form",
            product=product,
            values={**values, "sku": product.sku},
            errors={},
            error=problem(exc, lang),
            conditions=list(Condition),
            status_code=400,
        )
    return _back(request, f"/console/products/{product_id}", gettext(lang, "Saved."))


@post("/products/{product_id:uuid}/upload-url", guards=[STAFF])
async def product_upload_url(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    lang = language_of(request)
    try:
        data = parse(api_products.UploadRequest, await _json(request), lang)
        target = await api_products.image_upload_url.fn(
            product_id=product_id, data=data, settings=settings, services=services
        )
    except (HTTPException, FormInvalid) as exc:
        return _json_error(exc, lang)
    return Response(target.model_dump())


@post("/products/{product_id:uuid}/images", guards=[STAFF])
async def product_attach(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    lang = language_of(request)
    try:
        data = parse(api_products.ImageKey, await _json(request), lang)
        product = await api_products.attach_image.fn(
            product_id=product_id, data=data, settings=settings, services=services
        )
    except (HTTPException, FormInvalid) as exc:
        return _json_error(exc, lang)
    return Response({"image_keys": product.image_keys})


@post("/products/{product_id:uuid}/listing", guards=[STAFF])
async def product_list(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    try:
        await api_products.start_listing.fn(
            product_id=product_id, settings=settings, temporal=temporal
        )
    except HTTPException as exc:
        return _back(request, f"/console/products/{product_id}", problem(exc, lang), "error")
    return _back(
        request,
        f"/console/products/{product_id}",
        gettext(lang, "Listing started: the English draft is being written."),
    )


@get("/products/{product_id:uuid}/images/{index:int}", guards=[STAFF])
async def product_image(
    product_id: FromPath[uuid.UUID],
    index: FromPath[int],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    import anyio.to_thread

    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    if index >= len(product.image_keys):
        raise NotFoundException("no such image")
    key = product.image_keys[index]
    url = await anyio.to_thread.run_sync(lambda: services.storage.presign_get(key, expires=300))
    return Redirect(url, status_code=302)


# Listing review -------------------------------------------------------------------------------


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
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    values = {
        "title": product.title_en,
        "description_html": product.description_html,
        "price_usd": product.price_usd,
    }
    return page(request, "listing_review", product=product, values=values, errors={})


async def _review(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    temporal: TemporalGateway,
    action: FromPath[str],
    **extra: Any,
) -> None:
    handler = {
        "approve": api_products.approve_listing,
        "edit": api_products.edit_listing,
        "reject": api_products.reject_listing,
    }[action]
    await handler.fn(request=request, product_id=product_id, temporal=temporal, **extra)


@post("/listings/{product_id:uuid}/{action:str}", guards=[STAFF])
async def listing_decide(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    action: FromPath[str],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    here = f"/console/listings/{product_id}"
    try:
        if action == "save":
            data = parse(
                api_products.Edit,
                {k: values.get(k, "") for k in ("title", "description_html", "price_usd")},
                lang,
            )
            await _review(request, product_id, temporal, "edit", data=data)
            return _back(request, here, gettext(lang, "Draft saved."))
        if action == "approve":
            await _review(request, product_id, temporal, "approve")
            return _back(
                request, "/console/listings", gettext(lang, "Approved: publishing to eBay.")
            )
        if action == "reject":
            data_r = parse(api_products.Decision, {"reason": values.get("reason", "")}, lang)
            await _review(request, product_id, temporal, "reject", data=data_r)
            return _back(request, "/console/listings", gettext(lang, "Rejected."))
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
        return _back(request, here, problem(exc, lang), "error")
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
            await _review(request, uuid.UUID(str(raw)), temporal, "approve")
            approved += 1
        except (ValueError, HTTPException):
            failed.append(str(raw))
    if not approved and not failed:
        return _back(
            request, "/console/listings", gettext(lang, "Select at least one listing."), "error"
        )
    message = gettext(lang, "%(n)s listings approved.", n=approved)
    if failed:
        message += " " + gettext(lang, "%(n)s could not be approved.", n=len(failed))
    return _back(request, "/console/listings", message, "error" if failed else "ok")


# Orders ---------------------------------------------------------------------------------------


@get("/orders", guards=[ANY_ROLE])
async def orders(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    q: str = Parameter(default="", max_length=120),
    status: str = Parameter(default="", max_length=30),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    chosen = OrderStatus(status) if status in OrderStatus.__members__.values() else None
    found = await api_orders.list_orders.fn(
        settings=settings, status=chosen, q=q or None, limit=PAGE_SIZE, offset=offset
    )
    return page(request, "orders", page_=found, q=q, status=status, statuses=list(OrderStatus))


TIMELINE = [
    "recording",
    "confirming",
    "inspecting",
    "labelling",
    "uploading_tracking",
    "notifying",
    "in_transit",
    "completed",
]


@get("/orders/{order_id:uuid}", guards=[ANY_ROLE])
async def order_detail(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    order = await api_orders.get_order.fn(
        request=request, order_id=order_id, settings=settings, temporal=temporal
    )
    step = order.live.step if order.live else ""
    reached = TIMELINE.index(step) if step in TIMELINE else -1
    return page(
        request, "order", order=order, timeline=TIMELINE, reached=reached, errors={}, values={}
    )


@post("/orders/{order_id:uuid}/cancel", guards=[STAFF])
async def order_cancel(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    here = f"/console/orders/{order_id}"
    try:
        data = parse(api_orders.CancelRequest, {"reason": values.get("reason", "").strip()}, lang)
        await api_orders.cancel_order.fn(
            request=request, order_id=order_id, data=data, settings=settings, temporal=temporal
        )
    except FormInvalid as exc:
        order = await api_orders.get_order.fn(
            request=request, order_id=order_id, settings=settings, temporal=temporal
        )
        return page(
            request,
            "order",
            order=order,
            timeline=TIMELINE,
            reached=-1,
            errors=exc.errors,
            values=values,
            status_code=400,
        )
    except HTTPException as exc:
        return _back(request, here, problem(exc, lang), "error")
    return _back(request, here, gettext(lang, "The order is being cancelled and refunded."))


# Inspection -----------------------------------------------------------------------------------


@get("/inspections", guards=[ANY_ROLE])
async def inspection_queue(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    queue = await api_inspections.queue.fn(settings=settings, result=None, limit=100, offset=0)
    return page(request, "inspections", page_=queue)


@get("/inspections/{order_id:uuid}", guards=[ANY_ROLE])
async def inspection_detail(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    item = await api_inspections.detail.fn(order_id=order_id, settings=settings, temporal=temporal)
    checklist = (
        item.live.checklist
        if item.live and item.live.checklist
        else [api_inspections_item(c) for c in item.checklist]
    )
    return page(request, "inspection", item=item, checklist=checklist, errors={}, values={})


def api_inspections_item(raw: dict[str, Any]) -> Any:
    from workflows.contracts.inspection import ChecklistItem

    return ChecklistItem.model_validate(raw)


@post("/inspections/{order_id:uuid}/media-urls", guards=[INSPECTOR])
async def inspection_media_urls(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    lang = language_of(request)
    try:
        data = parse(api_inspections.MediaRequest, await _json(request), lang)
        targets = await api_inspections.media_upload_urls.fn(
            order_id=order_id, data=data, settings=settings, services=services
        )
    except (HTTPException, FormInvalid) as exc:
        return _json_error(exc, lang)
    return Response([t.model_dump() for t in targets])


@post("/inspections/{order_id:uuid}/result", guards=[INSPECTOR])
async def inspection_result(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    form = await request.form()
    item = await api_inspections.detail.fn(order_id=order_id, settings=settings, temporal=temporal)
    checklist = (
        item.live.checklist
        if item.live and item.live.checklist
        else [api_inspections_item(c) for c in item.checklist]
    )
    answers = {c.key: form.get(f"check_{c.key}") == "yes" for c in checklist}
    media = [str(k) for k in form.getall("media_key", []) if str(k)]
    values = {"notes": str(form.get("notes", "")), **{f"check_{k}": v for k, v in answers.items()}}
    errors = {}
    if not media:
        errors["media"] = gettext(lang, "Upload at least one photo or video first.")
    if errors:
        return page(
            request,
            "inspection",
            item=item,
            checklist=checklist,
            errors=errors,
            values=values,
            media=media,
            status_code=400,
        )
    try:
        data = parse(
            api_inspections.ResultRequest,
            {"answers": answers, "media_keys": media, "notes": values["notes"]},
            lang,
        )
        outcome = await api_inspections.submit_result.fn(
            request=request, order_id=order_id, data=data, settings=settings, temporal=temporal
        )
    except FormInvalid as exc:
        return page(
            request,
            "inspection",
            item=item,
            checklist=checklist,
            errors=exc.errors,
            values=values,
            media=media,
            status_code=400,
        )
    except HTTPException as exc:
        return page(
            request,
            "inspection",
            item=item,
            checklist=checklist,
            errors={},
            error=problem(exc, lang),
            values=values,
            media=media,
            status_code=400,
        )
    message = (
        gettext(lang, "Inspection passed.")
        if outcome.passed
        else gettext(lang, "Inspection failed: staff will decide what happens next.")
    )
    return _back(request, "/console/inspections", message, "ok" if outcome.passed else "error")


# Shipments ------------------------------------------------------------------------------------


@get("/shipments", guards=[STAFF])
async def shipments(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    status: str = Parameter(default="", max_length=30),
    carrier: str = Parameter(default="", max_length=20),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    chosen = ShipmentStatus(status) if status in ShipmentStatus.__members__.values() else None
    found = await api_shipments.list_shipments.fn(
        settings=settings, status=chosen, carrier=carrier or None, limit=PAGE_SIZE, offset=offset
    )
    return page(
        request,
        "shipments",
        page_=found,
        status=status,
        carrier=carrier,
        statuses=list(ShipmentStatus),
    )


@get("/shipments/{shipment_id:uuid}", guards=[STAFF])
async def shipment_detail(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    shipment = await api_shipments.get_shipment.fn(
        shipment_id=shipment_id, settings=settings, temporal=temporal
    )
    return page(request, "shipment", shipment=shipment, errors={}, values={})


@post("/shipments/{shipment_id:uuid}/rate", guards=[STAFF])
async def shipment_rate(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    values = await _form(request)
    here = f"/console/shipments/{shipment_id}"
    carrier, _, service = values.get("rate", "").partition("|")
    try:
        data = parse(api_shipments.RateChoice, {"carrier": carrier, "service": service}, lang)
        await api_shipments.choose_rate.fn(
            request=request, shipment_id=shipment_id, data=data, temporal=temporal
        )
    except FormInvalid:
        return _back(request, here, gettext(lang, "Choose one of the quotes."), "error")
    except HTTPException as exc:
        return _back(request, here, problem(exc, lang), "error")
    return _back(request, here, gettext(lang, "Rate chosen: the label is being bought."))


@post("/shipments/{shipment_id:uuid}/tracking", guards=[STAFF])
async def shipment_tracking(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    here = f"/console/shipments/{shipment_id}"
    number = values.get("tracking_number", "").strip()
    try:
        data = parse(api_shipments.TrackingNumber, {"tracking_number": number}, lang)
        await api_shipments.submit_tracking.fn(
            request=request,
            shipment_id=shipment_id,
            data=data,
            settings=settings,
            temporal=temporal,
        )
    except (FormInvalid, HTTPException) as exc:
        errors = (
            exc.errors if isinstance(exc, FormInvalid) else {"tracking_number": problem(exc, lang)}
        )
        shipment = await api_shipments.get_shipment.fn(
            shipment_id=shipment_id, settings=settings, temporal=temporal
        )
        return page(
            request, "shipment", shipment=shipment, errors=errors, values=values, status_code=400
        )
    return _back(request, here, gettext(lang, "Tracking number recorded."))


@get("/shipments/{shipment_id:uuid}/{document:str}", guards=[STAFF])
async def shipment_document(
    request: AnyRequest,
    shipment_id: FromPath[uuid.UUID],
    document: FromPath[str],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    """The label PDF or the carrier hand-off CSV, through the API's presigned download."""
    handler = {"label": api_shipments.label, "handoff": api_shipments.handoff}.get(document)
    if handler is None:
        raise NotFoundException(f"no document {document}")
    download = await handler.fn(shipment_id=shipment_id, settings=settings, services=services)
    return Redirect(download.url, status_code=302)


# Operations (admin) ---------------------------------------------------------------------------


@get("/operations", guards=[ADMIN])
async def operations(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    lang = language_of(request)
    schedules, schedule_error = [], None
    try:
        schedules = await api_operations.list_schedules.fn(temporal=temporal)
    except HTTPException as exc:
        schedule_error = problem(exc, lang)
    users = await api_users.list_users.fn(settings=settings, role=None, q=None, limit=200, offset=0)
    return page(
        request,
        "operations",
        schedules=schedules,
        schedule_error=schedule_error,
        users=users,
        roles=list(Role),
        values={},
        errors={},
    )


@post("/operations/schedules/{schedule_id:str}/{action:str}", guards=[ADMIN])
async def schedule_action(
    request: AnyRequest,
    schedule_id: FromPath[str],
    action: FromPath[str],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    if action not in {"pause", "unpause", "trigger"}:
        raise NotFoundException(f"unknown action {action}")
    try:
        await api_operations._act(temporal, schedule_id, action, "")
    except HTTPException as exc:
        return _back(request, "/console/operations", problem(exc, lang), "error")
    return _back(request, "/console/operations", gettext(lang, "Schedule updated."))


@post("/orders/sync", guards=[STAFF])
async def order_sync(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    lang = language_of(request)
    try:
        await api_operations.trigger_order_sync.fn(settings=settings, temporal=temporal)
    except HTTPException as exc:
        return _back(request, "/console/orders", problem(exc, lang), "error")
    return _back(request, "/console/orders", gettext(lang, "Order sync started."))


@post("/operations/users", guards=[ADMIN])
async def user_create(
    request: AnyRequest, settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang = language_of(request)
    values = await _form(request)
    try:
        data = parse(
            api_users.UserCreate,
            {k: values.get(k, "") for k in ("email", "full_name", "role")},
            lang,
        )
        created = await api_users.create.fn(data=data, request=request, settings=settings)
    except (FormInvalid, HTTPException) as exc:
        errors = exc.errors if isinstance(exc, FormInvalid) else {"email": problem(exc, lang)}
        users = await api_users.list_users.fn(
            settings=settings, role=None, q=None, limit=200, offset=0
        )
        return page(
            request,
            "operations",
            schedules=[],
            schedule_error=None,
            users=users,
            roles=list(Role),
            values=values,
            errors=errors,
            status_code=400,
        )
    return page(request, "user_created", created=created)


def routers(settings: Settings) -> list[Router]:
    del settings
    return [
        Router(
            path="/console",
            include_in_schema=False,
            route_handlers=[
                today,
                products,
                product_new,
                product_create,
                product_edit,
                product_update,
                product_upload_url,
                product_attach,
                product_list,
                product_image,
                listings,
                listings_approve_batch,
                listing_review,
                listing_decide,
                orders,
                order_detail,
                order_cancel,
                inspection_queue,
                inspection_detail,
                inspection_media_urls,
                inspection_result,
                shipments,
                shipment_detail,
                shipment_rate,
                shipment_tracking,
                shipment_document,
                operations,
                schedule_action,
                order_sync,
                user_create,
            ],
        )
    ]
