"""Sagawa Express (佐川急便) through e-Hiden III's "標準_飛脚宅急便_CSV_ヘッダ有り" import.

Sagawa publishes no open API: staff upload this CSV to e-飛伝III, which prints the labels, and
the downloaded shipment file gives the お問い合せ送り状No. back, matched on お客様管理番号.
"""

from __future__ import annotations

import httpx

from adapters.carriers.base import ShipmentRequest
from adapters.carriers.jp_csv import DomesticCsvCarrier, ship_date

HEADER = [
    "お届け先コード取得区分",
    "お届け先コード",
    "お届け先電話番号",
    "お届け先郵便番号",
    "お届け先住所１",
    "お届け先住所２",
    "お届け先住所３",
    "お届け先名称１",
    "お届け先名称２",
    "お客様管理番号",
    "お客様コード",
    "部署ご担当者コード取得区分",
    "部署ご担当者コード",
    "部署ご担当者名称",
    "荷送人電話番号",
    "ご依頼主コード取得区分",
    "ご依頼主コード",
    "ご依頼主電話番号",
    "ご依頼主郵便番号",
    "ご依頼主住所１",
    "ご依頼主住所２",
    "ご依頼主名称１",
    "ご依頼主名称２",
    "荷姿",
    "品名１",
    "品名２",
    "品名３",
    "品名４",
    "品名５",
    "荷札荷姿",
    "荷札品名１",
    "荷札品名２",
    "荷札品名３",
    "荷札品名４",
    "荷札品名５",
    "荷札品名６",
    "荷札品名７",
    "荷札品名８",
    "荷札品名９",
    "荷札品名１０",
    "荷札品名１１",
    "出荷個数",
    "スピード指定",
    "クール便指定",
    "配達日",
    "配達指定時間帯",
    "配達指定時間（時分）",
    "代引金額",
    "消費税",
    "決済種別",
    "保険金額",
    "指定シール１",
    "指定シール２",
    "指定シール３",
    "営業所受取",
    "SRC区分",
    "営業所受取営業所コード",
    "元着区分",
    "メールアドレス",
    "ご不在時連絡先",
    "出荷日",
    "お問い合せ送り状No.",
    "出荷場印字区分",
    "集約解除指定",
    "編集０１",
    "編集０２",
    "編集０３",
    "編集０４",
    "編集０５",
    "編集０６",
    "編集０７",
    "編集０８",
    "編集０９",
    "編集１０",
]
PREPAID = "1"  # 元着区分 1 = 元払


class SagawaCarrier(DomesticCsvCarrier):
    name = "sagawa"
    service = "HIKYAKU"
    service_name = "飛脚宅配便"
    header = HEADER
    # e飛伝III's standard layout: 16 full-width characters (32 bytes) a field.
    field_bytes = {
        "お届け先住所１": 32,
        "お届け先住所２": 32,
        "お届け先住所３": 32,
        "お届け先名称１": 32,
        "お届け先名称２": 32,
        "ご依頼主住所１": 32,
        "ご依頼主住所２": 32,
        "ご依頼主名称１": 32,
        "品名１": 32,
    }
    reference_column = "お客様管理番号"
    tracking_column = "お問い合せ送り状No."
    base_by_size = {60: 910, 80: 1200, 100: 1500, 120: 1820, 140: 2140, 160: 2470}
    step_yen = 115
    public_tracking_base = "https://k2k.sagawa-exp.co.jp"

    def site_settings(self) -> tuple[str, bool | None]:
        return self.settings.sagawa_base_url, self.settings.sagawa_tracking_enabled

    def fetch_tracking_page(self, tracking_number: str) -> httpx.Response:
        return self.http.get(
            f"{self.tracking_base_url}/p/web/okurijosearch.do",
            params={"okurijoNo": tracking_number},
        )

    def fields(self, request: ShipmentRequest) -> dict[str, str]:
        s, r = request.shipper, request.recipient
        return {
            "お届け先コード取得区分": "0",
            "お届け先電話番号": r.phone or "0000000000",
            "お届け先郵便番号": r.postal_code,
            "お届け先住所１": f"{r.state}{r.city}",
            "お届け先住所２": r.line1,
            "お届け先住所３": r.line2,
            "お届け先名称１": r.name,
            "お届け先名称２": r.company,
            "お客様管理番号": request.reference,
            "お客様コード": self.settings.sagawa_customer_code,
            "ご依頼主電話番号": s.phone,
            "ご依頼主郵便番号": s.postal_code,
            "ご依頼主住所１": f"{s.state}{s.city}",
            "ご依頼主住所２": s.line1,
            "ご依頼主名称１": s.company or s.name,
            "荷姿": "箱",
            "品名１": request.item_description or "商品",
            "出荷個数": "1",
            "元着区分": PREPAID,
            "メールアドレス": r.email,
            "出荷日": ship_date(request),
        }
