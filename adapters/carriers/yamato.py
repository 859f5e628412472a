"""Yamato Transport (ヤマト運輸) through B2 Cloud's "外部データから発行" CSV import.

Yamato publishes no open API: staff import the CSV this adapter writes into B2 Cloud, which
prints the labels, and the issued-history export (発行済データ) gives the 伝票番号 back, matched
on お客様管理番号 = our reference. Layout: B2 Cloud's 97-column basic layout; the first 42
columns are the documented ones we fill, the rest are optional fields we leave empty.
"""

from __future__ import annotations

import httpx

from adapters.carriers.base import ShipmentRequest
from adapters.carriers.jp_csv import DomesticCsvCarrier, ship_date

NAMED_COLUMNS = [
    "お客様管理番号",
    "送り状種類",
    "クール区分",
    "伝票番号",
    "出荷予定日",
    "お届け予定日",
    "配達時間帯",
    "お届け先コード",
    "お届け先電話番号",
    "お届け先電話番号枝番",
    "お届け先郵便番号",
    "お届け先住所",
    "お届け先アパートマンション名",
    "お届け先会社・部門１",
    "お届け先会社・部門２",
    "お届け先名",
    "お届け先名(ｶﾅ)",
    "敬称",
    "ご依頼主コード",
    "ご依頼主電話番号",
    "ご依頼主電話番号枝番",
    "ご依頼主郵便番号",
    "ご依頼主住所",
    "ご依頼主アパートマンション",
    "ご依頼主名",
    "ご依頼主名(ｶﾅ)",
    "品名コード１",
    "品名１",
    "品名コード２",
    "品名２",
    "荷扱い１",
    "荷扱い２",
    "記事",
    "ｺﾚｸﾄ代金引換額（税込)",
    "内消費税額等",
    "止置き",
    "営業所コード",
    "発行枚数",
    "個数口表示フラグ",
    "請求先顧客コード",
    "請求先分類コード",
    "運賃管理番号",
]
COLUMN_COUNT = 97
HEADER = NAMED_COLUMNS + [f"予備{n}" for n in range(len(NAMED_COLUMNS) + 1, COLUMN_COUNT + 1)]
SLIP_PREPAID = "0"  # 送り状種類 0 = 発払い


class YamatoCarrier(DomesticCsvCarrier):
    name = "yamato"
    service = "TA-Q-BIN"
    service_name = "宅急便"
    header = HEADER
    # B2 Cloud's layout: full-width characters count 2 bytes.
    field_bytes = {
        "お届け先住所": 64,
        "お届け先アパートマンション名": 32,
        "お届け先会社・部門１": 50,
        "お届け先名": 32,
        "ご依頼主住所": 64,
        "ご依頼主アパートマンション": 32,
        "ご依頼主名": 32,
        "品名１": 50,
    }
    reference_column = "お客様管理番号"
    tracking_column = "伝票番号"
    # 宅急便 list prices (yen, same region) by size; contracted rates are lower.
    base_by_size = {60: 940, 80: 1220, 100: 1530, 120: 1850, 140: 2170, 160: 2480}
    step_yen = 110
    public_tracking_base = "https://toi.kuronekoyamato.co.jp"

    def site_settings(self) -> tuple[str, bool | None]:
        return self.settings.yamato_base_url, self.settings.yamato_tracking_enabled

    def fetch_tracking_page(self, tracking_number: str) -> httpx.Response:
        return self.http.post(
            f"{self.tracking_base_url}/cgi-bin/tneko", data={"number01": tracking_number}
        )

    def fields(self, request: ShipmentRequest) -> dict[str, str]:
        s, r, settings = request.shipper, request.recipient, self.settings
        return {
            "お客様管理番号": request.reference,
            "送り状種類": SLIP_PREPAID,
            "クール区分": "0",
            "出荷予定日": ship_date(request),
            "お届け先電話番号": r.phone or "0000000000",
            "お届け先郵便番号": r.postal_code,
            "お届け先住所": f"{r.state}{r.city}{r.line1}",
            "お届け先アパートマンション名": r.line2,
            "お届け先会社・部門１": r.company,
            "お届け先名": r.name,
            "敬称": "様",
            "ご依頼主電話番号": s.phone,
            "ご依頼主郵便番号": s.postal_code,
            "ご依頼主住所": f"{s.state}{s.city}{s.line1}",
            "ご依頼主アパートマンション": s.line2,
            "ご依頼主名": s.company or s.name,
            "品名１": request.item_description or "商品",
            "発行枚数": "1",
            "請求先顧客コード": settings.yamato_customer_code,
            "運賃管理番号": settings.yamato_freight_code,
        }
