"""Console fixtures: the API fixtures (app, users, the real worker) plus helpers for forms."""

from __future__ import annotations

import re

from tests.api.conftest import (  # noqa: F401
    Account,
    client,
    logged_in,
    make_client,
    make_user,
    next_code,
    worker,
)

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)
