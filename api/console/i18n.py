"""Language, dates and money for the console pages.

Japanese is the default; English is chosen with the `lang` cookie (set by /console/lang) or the
browser's Accept-Language. Messages come from the gettext catalogs under `locales/`. English is
the source language: its catalog holds only the words for machine values the pages show
(`uploading_tracking` reads "Uploading tracking"). The `.po` files are compiled in memory when the
app starts, so there is no separate compile step to forget.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from litestar.connection import ASGIConnection
from markupsafe import Markup, escape

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_COOKIE = "lang"
JST = ZoneInfo("Asia/Tokyo")
BABEL_LOCALES = {"ja": Locale.parse("ja_JP"), "en": Locale.parse("en_US")}


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog for `lang` (read from its .po file once per process)."""
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def language_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    chosen = connection.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for part in connection.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def setting_names(text: str) -> Markup:
    """`text` escaped, with the settings it names (`APP_ENV`) marked as code: what an admin
    looks for in the environment, not words to translate."""
    escaped = str(escape(text))
    marked = SETTING_NAME.sub(lambda name: f"<code>{name.group()}</code>", escaped)
    return Markup(marked)  # noqa: S704 - escaped first; a name is [A-Z0-9_] only


def gettext(lang: str, message: str, **params: Any) -> str:
    text = translations(lang).gettext(message)
    return text % params if params else text


def jst(value: datetime | str | None, lang: str, fmt: str = "medium") -> str:
    """A date-time in Japan time, formatted for the page's language."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return format_datetime(value, fmt, tzinfo=JST, locale=BABEL_LOCALES[lang])


def money(amount: Any, currency: str, lang: str) -> str:
    """Yen without decimals, dollars with cents, in the page's locale; '' when not a number."""
    try:
        number = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount or "")
    return format_currency(number, currency or "JPY", locale=BABEL_LOCALES[lang])


def number(value: Any, lang: str) -> str:
    return format_decimal(value, locale=BABEL_LOCALES[lang])


def install(env: jinja2.Environment) -> None:
    """gettext callables that read the language from the request in the template context, and
    the date/money filters; nothing global, so two languages can render side by side."""

    def _lang(ctx: jinja2.runtime.Context) -> str:
        return str(ctx.get("lang") or DEFAULT_LANGUAGE)

    @jinja2.pass_context
    def _gettext(ctx: jinja2.runtime.Context, message: str, **params: Any) -> str:
        text = translations(_lang(ctx)).gettext(message)
        return text % params if params else text

    @jinja2.pass_context
    def _ngettext(
        ctx: jinja2.runtime.Context, singular: str, plural: str, n: int, **params: Any
    ) -> str:
        text = translations(_lang(ctx)).ngettext(singular, plural, n)
        return text % {"num": n, **params}

    @jinja2.pass_context
    def _jst(ctx: jinja2.runtime.Context, value: Any, fmt: str = "medium") -> str:
        return jst(value, _lang(ctx), fmt)

    @jinja2.pass_context
    def _money(ctx: jinja2.runtime.Context, value: Any, currency: str = "JPY") -> str:
        return money(value, currency, _lang(ctx))

    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["jst"] = _jst
    env.filters["money"] = _money
    env.filters["setting_names"] = setting_names
