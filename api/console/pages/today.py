"""Today: what needs a person now."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from api.console.pages.common import AnyRequest
from api.console.render import page
from api.security.guards import ANY_ROLE
from api.today import today_counts
from config import Settings


@get("/", guards=[ANY_ROLE], name="console_today")
async def today(request: AnyRequest, settings: NamedDependency[Settings]) -> Template:
    return page(request, "today", counts=await today_counts(settings))


ROUTES = [today]
