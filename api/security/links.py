"""The links we email, in one place: PUBLIC_BASE_URL + a console page + the single-use token.
The console serves these pages (api/console/welcome.py); the old `/reset-password` path
redirects to the console's page, so links sent before it moved still work."""

from __future__ import annotations

from urllib.parse import urlencode

from config import Settings

INVITATION_PATH = "/console/invitation"
RESET_PASSWORD_PATH = "/console/reset-password/confirm"
LEGACY_RESET_PATH = "/reset-password"
SIGN_IN_PATH = "/console/login"


def _url(settings: Settings, path: str, **query: str) -> str:
    base = settings.public_base_url.rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def invitation_url(settings: Settings, token: str) -> str:
    return _url(settings, INVITATION_PATH, token=token)


def reset_password_url(settings: Settings, token: str) -> str:
    return _url(settings, RESET_PASSWORD_PATH, token=token)


def sign_in_url(settings: Settings) -> str:
    return _url(settings, SIGN_IN_PATH)
