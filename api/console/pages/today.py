"""Today: what needs a person now — the counts, the shipments late against their promised
transit, and the workflows stuck on a failure that keeps coming back (staff and admin)."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.response import Template

from api.console.forms import problem
from api.console.i18n import language_of
from api.console.labels import N_
from api.console.pages.common import AnyRequest
from api.console.render import can, current_user, page
from api.routes import operations as api_operations
from api.running import STUCK_LIMIT
from api.security.guards import ANY_ROLE
from api.temporal import TemporalGateway
from api.today import late_shipments, today_counts
from config import Settings
from models import Role

# The last error of a stuck workflow, in plain words (api/stuck.py classifies it).
REASONS = {
    "service_unavailable": N_("An outside service is not answering; the step keeps retrying."),
    "rate_limited": N_("An outside service says we call too often; the step keeps retrying."),
    "timeout": N_("A step takes too long and keeps timing out."),
    "refused": N_("An outside service refuses the request; it will not pass by retrying."),
    "nondeterminism": N_(
        "The workflow's code changed under a running workflow (nondeterminism): a developer "
        "must fix the code or reset the workflow."
    ),
    "code": N_("A programming error stops the workflow: a developer must look."),
    "other": N_("A step keeps failing."),
}


@get("/", guards=[ANY_ROLE], name="console_today")
async def today(
    request: AnyRequest,
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Template:
    counts = await today_counts(settings)
    if not can(current_user(request), Role.staff):
        return page(request, "today", counts=counts, late=[], stuck=None, stuck_error=None)
    late = await late_shipments(settings)
    stuck, stuck_error = None, None
    try:
        stuck = await api_operations.stuck.fn(
            settings=settings, temporal=temporal, limit=STUCK_LIMIT
        )
    except HTTPException as exc:
        stuck_error = problem(exc, language_of(request))
    return page(
        request,
        "today",
        counts=counts,
        late=late,
        stuck=stuck,
        stuck_error=stuck_error,
        reasons=REASONS,
    )


ROUTES = [today]
