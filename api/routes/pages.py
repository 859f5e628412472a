"""`/reset-password?token=...`, where reset links sent before the console served its own page
pointed: it forwards to the console's page (api.security.links names both paths)."""

from __future__ import annotations

from litestar import Router, get
from litestar.params import Parameter
from litestar.response import Redirect

from api.security.links import LEGACY_RESET_PATH, RESET_PASSWORD_PATH
from api.security.ratelimit import public_limiter
from config import Settings


@get(LEGACY_RESET_PATH, exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def reset_password_page(token: str = Parameter(default="", max_length=256)) -> Redirect:
    return Redirect(RESET_PASSWORD_PATH, query_params={"token": token}, status_code=303)


def routers(settings: Settings) -> list[Router]:
    public = public_limiter(settings)
    return [Router(path="/", route_handlers=[reset_password_page], middleware=[public.middleware])]
