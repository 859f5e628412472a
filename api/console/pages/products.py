"""Products: search, create, edit, photos (presigned upload) and starting a listing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.labels import N_
from api.console.pages.common import (
    PAGE_SIZE,
    AnyRequest,
    act,
    back,
    choice,
    form_values,
    json_call,
    pick,
)
from api.console.render import page
from api.routes import products as api_products
from api.routes.products import ProductPublic
from api.security.guards import STAFF
from api.services import Services
from api.temporal import TemporalGateway
from config import Settings
from models import Condition, ProductStatus

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


def here(product_id: uuid.UUID) -> str:
    return f"/console/products/{product_id}"


def _form_page(
    request: AnyRequest,
    product: ProductPublic | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "product_form",
        product=product,
        values=values,
        errors=errors or {},
        error=error,
        conditions=list(Condition),
        status_code=status_code,
    )


async def _save(
    request: AnyRequest,
    product: ProductPublic | None,
    values: dict[str, str],
    call: Callable[[], Awaitable[uuid.UUID]],
    done: str,
) -> Template | Redirect:
    """The product form's save: field errors (a taken SKU on its field) keep what was typed."""
    lang = language_of(request)
    try:
        product_id = await call()
    except FormInvalid as exc:
        return _form_page(request, product, values, exc.errors, status_code=400)
    except HTTPException as exc:
        on_sku = product is None and exc.status_code == 409
        errors = {"sku": problem(exc, lang)} if on_sku else {}
        error = None if on_sku else problem(exc, lang)
        return _form_page(request, product, values, errors, error, status_code=400)
    return back(request, here(product_id), gettext(lang, done))


@get("/products", guards=[STAFF])
async def products(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    q: str = Parameter(default="", max_length=100),
    status: str = Parameter(default="", max_length=30),
    offset: int = Parameter(default=0, ge=0),
) -> Template:
    found = await api_products.list_products.fn(
        settings=settings,
        status=choice(ProductStatus, status),
        q=q or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return page(request, "products", page_=found, q=q, status=status, statuses=list(ProductStatus))


@get("/products/new", guards=[STAFF])
async def product_new(request: AnyRequest) -> Template:
    return _form_page(request, None, {})


@post("/products/new", guards=[STAFF])
async def product_create(
    request: AnyRequest, settings: NamedDependency[Settings]
) -> Template | Redirect:
    lang, values = language_of(request), await form_values(request)

    async def create() -> uuid.UUID:
        data = parse(api_products.ProductCreate, pick(values, FORM_FIELDS), lang)
        return (await api_products.create_product.fn(data=data, settings=settings)).id

    return await _save(request, None, values, create, N_("Product created. Add photos next."))


@get("/products/{product_id:uuid}", guards=[STAFF])
async def product_edit(
    request: AnyRequest, product_id: FromPath[uuid.UUID], settings: NamedDependency[Settings]
) -> Template:
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)
    return _form_page(request, product, product.model_dump())


def changed(product: ProductPublic, values: dict[str, str]) -> dict[str, str]:
    """The form's fields that differ from the stored product: a save sends only what staff
    changed, so an unchanged price or stock is not pushed to eBay again."""
    stored = product.model_dump()
    return {
        k: values.get(k, "")
        for k in FORM_FIELDS
        if k != "sku" and not _same(values.get(k, ""), stored.get(k))
    }


def _same(text: str, stored: Any) -> bool:
    """A field's text against its stored value ("30.0" is the stored 30)."""
    text = text.strip()
    if isinstance(stored, int | float) and not isinstance(stored, bool):
        try:
            return float(text) == float(stored)
        except ValueError:
            return False
    return text == ("" if stored is None else str(stored))


@post("/products/{product_id:uuid}", guards=[STAFF])
async def product_update(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
    temporal: NamedDependency[TemporalGateway],
) -> Template | Redirect:
    lang, values = language_of(request), await form_values(request)
    product = await api_products.get_product.fn(product_id=product_id, settings=settings)

    async def update() -> uuid.UUID:
        data = parse(api_products.ProductUpdate, changed(product, values), lang)
        await api_products.update_product.fn(
            request=request,
            product_id=product_id,
            data=data,
            settings=settings,
            services=services,
            temporal=temporal,
        )
        return product_id

    return await _save(request, product, {**values, "sku": product.sku}, update, N_("Saved."))


@post("/products/{product_id:uuid}/upload-url", guards=[STAFF])
async def product_upload_url(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    async def call(data: api_products.UploadRequest) -> Any:
        return await api_products.image_upload_url.fn(
            product_id=product_id, data=data, settings=settings, services=services
        )

    return await json_call(request, api_products.UploadRequest, call, lambda t: t.model_dump())


@post("/products/{product_id:uuid}/images", guards=[STAFF])
async def product_attach(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    async def call(data: api_products.ImageKey) -> Any:
        return await api_products.attach_image.fn(
            product_id=product_id, data=data, settings=settings, services=services
        )

    return await json_call(
        request, api_products.ImageKey, call, lambda p: {"image_keys": p.image_keys}
    )


@post("/products/{product_id:uuid}/listing", guards=[STAFF])
async def product_list(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    return await act(
        request,
        here(product_id),
        lambda: api_products.start_listing.fn(
            product_id=product_id, settings=settings, temporal=temporal
        ),
        gettext(language_of(request), "Listing started: the English draft is being written."),
    )


@post("/products/{product_id:uuid}/listing/{action:str}", guards=[STAFF])
async def product_listing_change(
    request: AnyRequest,
    product_id: FromPath[uuid.UUID],
    action: FromPath[str],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Redirect:
    """End the eBay listing or relist an ended product (the API's listing change workflow)."""
    handler = {"end": api_products.end_listing, "relist": api_products.relist}.get(action)
    if handler is None:
        raise NotFoundException(f"unknown action {action}")
    done = {
        "end": N_("Ending the eBay listing."),
        "relist": N_("Relisting on eBay."),
    }[action]
    return await act(
        request,
        here(product_id),
        lambda: handler.fn(
            request=request, product_id=product_id, settings=settings, temporal=temporal
        ),
        gettext(language_of(request), done),
    )


@get("/products/{product_id:uuid}/images/{index:int}", guards=[STAFF])
async def product_image(
    product_id: FromPath[uuid.UUID],
    index: FromPath[int],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    download = await api_products.image_download.fn(
        product_id=product_id, index=index, settings=settings, services=services
    )
    return Redirect(download.url, status_code=302)


ROUTES = [
    products,
    product_new,
    product_create,
    product_edit,
    product_update,
    product_upload_url,
    product_attach,
    product_list,
    product_listing_change,
    product_image,
]
