"""Every carrier the label workflow may shop, by name."""

from __future__ import annotations

from adapters.carriers.base import Carrier
from adapters.carriers.fedex import FedexCarrier
from adapters.carriers.sagawa import SagawaCarrier
from adapters.carriers.yamato import YamatoCarrier
from config import Settings


def all_carriers(settings: Settings) -> dict[str, Carrier]:
    return {
        "fedex": FedexCarrier(settings),
        "yamato": YamatoCarrier(settings),
        "sagawa": SagawaCarrier(settings),
    }
