"""Yamato emulator: B2 Cloud's CSV import and issued history (sandbox controls), and the
public tracking page `/cgi-bin/tneko` (form field `number01`)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, get, post
from litestar.params import FromQuery

from adapters.carriers.yamato import HEADER
from sandbox.core import SandboxContext
from sandbox.jp_csv import (
    CarrierProfile,
    control_handlers_for,
    tracking_page_handler,
)
from sandbox.jp_csv import error_body as error_body

PROFILE = CarrierProfile(
    service="yamato",
    header=HEADER,
    required=(
        "お客様管理番号",
        "送り状種類",
        "出荷予定日",
        "お届け先電話番号",
        "お届け先郵便番号",
        "お届け先住所",
        "お届け先名",
        "ご依頼主電話番号",
        "ご依頼主郵便番号",
        "ご依頼主住所",
        "ご依頼主名",
        "品名１",
        "請求先顧客コード",
        "運賃管理番号",
    ),
    reference_column="お客様管理番号",
    tracking_column="伝票番号",
    timeline=(
        ("荷物受付", "東京ベース店"),
        ("発送済み", "東京ベース店"),
        ("輸送中", "中継センター"),
        ("配達中", "お届け先担当店"),
        ("配達完了", "お届け先担当店"),
    ),
    prefix="4",
)


def create_app(ctx: SandboxContext) -> Litestar:
    page = tracking_page_handler(PROFILE, ctx)

    @post("/cgi-bin/tneko", status_code=200)
    async def tneko_form(request: Request[Any, Any, Any]) -> Response[str]:
        form = await request.form()
        return await page(request, str(form.get("number01", "")))

    @get("/cgi-bin/tneko")
    async def tneko_link(
        request: Request[Any, Any, Any], number01: FromQuery[str] = ""
    ) -> Response[str]:
        return await page(request, number01)

    return Litestar([tneko_form, tneko_link], openapi_config=None)


def control_handlers(ctx: SandboxContext) -> list[Any]:
    return control_handlers_for(PROFILE, ctx, "b2")
