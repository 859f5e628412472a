"""Inspection, built for a phone: the queue, one order's checklist, direct media upload and the
pass/fail result."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.pages.common import AnyRequest, back, json_call
from api.console.render import page
from api.routes import inspections as api_inspections
from api.security.guards import ANY_ROLE, INSPECTOR
from api.services import Services
from api.temporal import TemporalGateway
from config import Settings
from workflows.contracts.inspection import ChecklistItem


def _checklist(item: Any) -> list[ChecklistItem]:
    """The live checklist from the workflow, or the one stored with the inspection."""
    if item.live and item.live.checklist:
        return list(item.live.checklist)
    return [ChecklistItem.model_validate(c) for c in item.checklist]


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
    return page(request, "inspection", item=item, checklist=_checklist(item), errors={}, values={})


@get("/inspections/{order_id:uuid}/media/{index:int}", guards=[ANY_ROLE])
async def inspection_media(
    order_id: FromPath[uuid.UUID],
    index: FromPath[int],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Redirect:
    """One photo or video of the inspection (the recorded version), by presigned download."""
    downloads = await api_inspections.media_downloads.fn(
        order_id=order_id, settings=settings, services=services
    )
    if index >= len(downloads):
        raise NotFoundException("no such photo or video")
    return Redirect(downloads[index].url, status_code=302)


@post("/inspections/{order_id:uuid}/media-urls", guards=[INSPECTOR])
async def inspection_media_urls(
    request: AnyRequest,
    order_id: FromPath[uuid.UUID],
    settings: NamedDependency[Settings],
    services: NamedDependency[Services],
) -> Response[Any]:
    async def call(data: api_inspections.MediaRequest) -> Any:
        return await api_inspections.media_upload_urls.fn(
            order_id=order_id, data=data, settings=settings, services=services
        )

    return await json_call(
        request, api_inspections.MediaRequest, call, lambda ts: [t.model_dump() for t in ts]
    )


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
    checklist = _checklist(item)
    answers = {c.key: form.get(f"check_{c.key}") == "yes" for c in checklist}
    media = [str(k) for k in form.getall("media_key", []) if str(k)]
    values = {"notes": str(form.get("notes", "")), **{f"check_{k}": v for k, v in answers.items()}}

    def again(errors: dict[str, str], error: str | None = None) -> Template:
        return page(
            request,
            "inspection",
            item=item,
            checklist=checklist,
            errors=errors,
            error=error,
            values=values,
            media=media,
            status_code=400,
        )

    if not media:
        return again({"media": gettext(lang, "Upload at least one photo or video first.")})
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
        return again(exc.errors)
    except HTTPException as exc:
        return again({}, problem(exc, lang))
    message = (
        gettext(lang, "Inspection passed.")
        if outcome.passed
        else gettext(lang, "Inspection failed: staff will decide what happens next.")
    )
    return back(request, "/console/inspections", message, "ok" if outcome.passed else "error")


ROUTES = [
    inspection_queue,
    inspection_detail,
    inspection_media,
    inspection_media_urls,
    inspection_result,
]
