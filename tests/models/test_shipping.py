"""The shipment's service as staff read it (models/shipping.py Shipment.service_name)."""

from __future__ import annotations

from models import Shipment
from models.shipping import service_words


def _quote(carrier: str, service: str, name: str) -> dict[str, str]:
    return {"carrier": carrier, "service": service, "service_name": name, "amount": "1"}


def test_the_bought_quote_names_the_service_without_the_carrier_in_front() -> None:
    shipment = Shipment(
        carrier="fedex",
        service="FEDEX_INTERNATIONAL_PRIORITY",
        quotes=[
            _quote("fedex", "INTERNATIONAL_ECONOMY", "FedEx International Economy"),
            _quote("fedex", "FEDEX_INTERNATIONAL_PRIORITY", "FedEx International Priority"),
        ],
    )
    assert shipment.bought_quote() == shipment.quotes[1]
    assert shipment.service_name == "International Priority"


def test_a_carrier_name_in_japanese_is_kept_whole() -> None:
    named = _quote("sagawa", "HIKYAKU", "飛脚宅配便 60サイズ")
    shipment = Shipment(carrier="sagawa", service="HIKYAKU", quotes=[named])
    assert shipment.service_name == "飛脚宅配便 60サイズ"


def test_without_a_quote_naming_it_the_code_gives_the_words() -> None:
    assert Shipment(carrier="yamato", service="TA-Q-BIN").service_name == "TA-Q-BIN"
    coded = Shipment(carrier="fedex", service="FEDEX_INTERNATIONAL_PRIORITY")
    assert coded.service_name == "International Priority"
    unnamed = Shipment(carrier="fedex", service="X", quotes=[_quote("fedex", "X", "")])
    assert unnamed.bought_quote() is not None and unnamed.service_name == "X"


def test_a_quote_beside_its_carrier_reads_the_same_way() -> None:
    assert service_words("fedex", "FedEx International Economy", "X") == "International Economy"
    assert service_words("yamato", "宅急便 60サイズ", "TA-Q-BIN") == "宅急便 60サイズ"
    assert service_words("fedex", "", "INTERNATIONAL_ECONOMY") == "International Economy"
