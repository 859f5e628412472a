"""Sagawa emulator: e-Hiden III's CSV import and shipment download (sandbox controls), and the
public tracking page `/p/web/okurijosearch.do?okurijoNo=`."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.params import FromQuery

from adapters.carriers.sagawa import HEADER
from sandbox.core import SandboxContext
from sandbox.jp_csv import (
    CarrierProfile,
    control_handlers_for,
    tracking_page_handler,
)
from sandbox.jp_csv import error_body as error_body

PROFILE = CarrierProfile(
    service="sagawa",
    header=HEADER,
    required=(
        "お届け先電話番号",
        "お届け先郵便番号",
        "お届け先住所１",
        "お届け先名称１",
        "お客様管理番号",
        "お客様コード",
        "ご依頼主電話番号",
        "ご依頼主住所１",
        "ご依頼主名称１",
        "品名１",
        "出荷個数",
        "元着区分",
    ),
    reference_column="お客様管理番号",
    tracking_column="お問い合せ送り状No.",
    timeline=(
        ("集荷", "東京営業所"),
        ("輸送中", "中継センター"),
        ("配達中", "配達営業所"),
        ("配達完了", "配達営業所"),
    ),
    prefix="3",
)


def create_app(ctx: SandboxContext) -> Litestar:
    page = tracking_page_handler(PROFILE, ctx)

    @get("/p/web/okurijosearch.do")
    async def okurijo(
        request: Request[Any, Any, Any], okurijoNo: FromQuery[str] = ""
    ) -> Response[str]:  # noqa: N803
        return await page(request, okurijoNo)

    return Litestar([okurijo], openapi_config=None)


def control_handlers(ctx: SandboxContext) -> list[Any]:
    return control_handlers_for(PROFILE, ctx, "ehiden")
