"""Every carrier the label workflow may shop, by name."""

from __future__ import annotations

from adapters.carriers import Carrier
from config import Settings


def all_carriers(settings: Settings) -> dict[str, Carrier]:
    from adapters.fedex import FedexCarrier
    from adapters.sagawa import SagawaCarrier
    from adapters.yamato import YamatoCarrier

    return {
        "fedex": FedexCarrier(settings),
        "yamato": YamatoCarrier(settings),
        "sagawa": SagawaCarrier(settings),
    }
