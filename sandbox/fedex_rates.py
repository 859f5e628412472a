"""How the FedEx emulator prices a shipment: one function for Rate and Ship, so the charge on a
label is the ACCOUNT quote for the same shipment.

The model follows what FedEx documents for rating: billable weight is the greater of the actual
and the dimensional weight (L x W x H in cm / 5000), rounded up to the next 0.5 kg; the list
(published) freight depends on the zone and the billable weight; ACCOUNT rates carry the
negotiated discount; a fuel surcharge is a percentage of the discounted freight; exports from
Japan carry no consumption tax. Amounts in JPY are whole yen; other currencies have cents.
The zone table, the discount and the surcharge percentage are the emulator's own figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

KG_PER_LB = Decimal("0.45359237")
CM_PER_IN = Decimal("2.54")
DIM_DIVISOR = 5000  # cm^3 per kg, FedEx International
ACCOUNT_DISCOUNT = Decimal("0.15")
FUEL_SURCHARGE_PERCENT = Decimal("24.5")

# (service type, name, price factor, transit days): what FedEx offers from Japan abroad.
SERVICES: tuple[tuple[str, str, Decimal, int], ...] = (
    ("FEDEX_INTERNATIONAL_PRIORITY", "FedEx International Priority", Decimal("1.0"), 3),
    ("INTERNATIONAL_ECONOMY", "FedEx International Economy", Decimal("0.72"), 6),
    ("FEDEX_INTERNATIONAL_CONNECT_PLUS", "FedEx International Connect Plus", Decimal("0.6"), 9),
)
SERVICE_NAMES = {s[0]: s[1] for s in SERVICES}
ZONE_BASE_JPY = {"A": 2900, "B": 3600, "C": 4700, "D": 5200}
ZONE_BY_COUNTRY = {
    "KR": "A",
    "CN": "A",
    "TW": "A",
    "HK": "A",
    "SG": "B",
    "TH": "B",
    "AU": "B",
    "US": "C",
    "CA": "C",
    "MX": "C",
}
PER_HALF_KG_JPY = 550
# Yen per unit of a preferred currency (the emulator's fixed exchange rates).
JPY_PER_UNIT = {
    "JPY": Decimal(1),
    "USD": Decimal("150.0"),
    "EUR": Decimal("162.0"),
    "GBP": Decimal("190.0"),
    "CAD": Decimal("108.0"),
    "AUD": Decimal("98.0"),
}
# FedEx's own currency codes where they differ from ISO 4217.
FEDEX_CURRENCY = {"GBP": "UKL", "JPY": "JYE"}
ISO_CURRENCY = {v: k for k, v in FEDEX_CURRENCY.items()}


class RatingError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Weights:
    actual_kg: Decimal
    dimensional_kg: Decimal
    billable_kg: Decimal
    units: str  # the units the request used, for totalBillingWeight


def _kilos(weight: dict[str, Any]) -> Decimal:
    value = Decimal(str(weight["value"]))
    return value * KG_PER_LB if weight.get("units") == "LB" else value


def _dimensional_kilos(dimensions: dict[str, Any] | None) -> Decimal:
    if not dimensions:
        return Decimal(0)
    factor = CM_PER_IN if dimensions.get("units") == "IN" else Decimal(1)
    sides = [Decimal(str(dimensions.get(k) or 0)) * factor for k in ("length", "width", "height")]
    return sides[0] * sides[1] * sides[2] / DIM_DIVISOR


def _half_kilo_up(kilos: Decimal) -> Decimal:
    return (kilos * 2).to_integral_value(ROUND_CEILING) / 2


def weights(packages: list[dict[str, Any]]) -> Weights:
    actual = dimensional = billable = Decimal(0)
    units = "KG"
    for package in packages:
        count = int(package.get("groupPackageCount") or 1)
        if package.get("weight", {}).get("units") == "LB":
            units = "LB"
        kilos = _kilos(package["weight"])
        dim = _dimensional_kilos(package.get("dimensions"))
        actual += kilos * count
        dimensional += dim * count
        billable += _half_kilo_up(max(kilos, dim, Decimal("0.5"))) * count
    return Weights(actual, dimensional, billable, units)


def money(amount: Decimal, currency: str) -> int | float:
    """Whole yen for JPY, cents otherwise (as JSON numbers)."""
    if ISO_CURRENCY.get(currency, currency) == "JPY":
        return int(amount.quantize(Decimal(1), ROUND_HALF_UP))
    return float(amount.quantize(Decimal("0.01"), ROUND_HALF_UP))


def check_service(service: str | None, shipper: str, recipient: str) -> None:
    if shipper == recipient:
        raise RatingError(
            "SERVICE.UNAVAILABLE.ERROR",
            f"Service is not available for a domestic shipment within {shipper}.",
        )
    if service and service not in SERVICE_NAMES:
        raise RatingError(
            "SERVICETYPE.NOT.AVAILABLE",
            f"{service} is not available from {shipper} to {recipient}. "
            f"Available: {', '.join(SERVICE_NAMES)}.",
        )


@dataclass(frozen=True)
class Charge:
    """One rate type's totals in one currency."""

    rate_type: str
    currency: str
    base: Decimal
    discount: Decimal
    fuel: Decimal
    zone: str
    weights: Weights
    to_jpy: Decimal  # yen per unit of `currency`

    @property
    def net_freight(self) -> Decimal:
        return self.base - self.discount

    @property
    def net(self) -> Decimal:
        return self.net_freight + self.fuel


def price(
    service: str,
    recipient_country: str,
    packages: list[dict[str, Any]],
    rate_type: str,
    currency: str = "JPY",
) -> Charge:
    """The charge for `service` to `recipient_country`, rounded the way the currency is."""
    factor = next(s[2] for s in SERVICES if s[0] == service)
    zone = ZONE_BY_COUNTRY.get(recipient_country, "D")
    w = weights(packages)
    base_jpy = (ZONE_BASE_JPY[zone] + PER_HALF_KG_JPY * (w.billable_kg - Decimal("0.5")) * 2) * (
        factor
    )
    iso = ISO_CURRENCY.get(currency, currency)
    to_jpy = JPY_PER_UNIT.get(iso)
    if to_jpy is None:
        raise RatingError("CURRENCY.TYPE.INVALID", f"Currency {currency} is not supported.")

    def rounded(yen: Decimal) -> Decimal:
        return Decimal(str(money(yen / to_jpy, iso)))

    base = rounded(base_jpy)
    discount = rounded(base_jpy * ACCOUNT_DISCOUNT) if rate_type == "ACCOUNT" else Decimal(0)
    fuel = Decimal(str(money((base - discount) * FUEL_SURCHARGE_PERCENT / 100, iso)))
    return Charge(rate_type, currency, base, discount, fuel, zone, w, to_jpy)


def rated_detail(charge: Charge, rate_type: str) -> dict[str, Any]:
    """One `ratedShipmentDetails[]` entry of a Rate reply, in FedEx's documented shape."""
    c = charge.currency
    w = charge.weights
    dimensional = w.dimensional_kg > w.actual_kg
    per_unit = KG_PER_LB if w.units == "LB" else Decimal(1)
    billing = w.billable_kg / per_unit
    dim = w.dimensional_kg / per_unit
    net = money(charge.net, c)
    return {
        "rateType": rate_type,
        "ratedWeightMethod": "DIM" if dimensional else "ACTUAL",
        "totalDiscounts": money(charge.discount, c),
        "totalBaseCharge": money(charge.base, c),
        "totalNetCharge": net,
        "totalVatCharge": 0,
        "totalNetFedExCharge": net,
        "totalDutiesAndTaxes": 0,
        "totalNetChargeWithDutiesAndTaxes": net,
        "totalDutiesTaxesAndFees": 0,
        "totalAncillaryFeesAndTaxes": 0,
        "shipmentRateDetail": {
            "rateZone": charge.zone,
            "dimDivisor": DIM_DIVISOR if dimensional else 0,
            "fuelSurchargePercent": float(FUEL_SURCHARGE_PERCENT),
            "totalSurcharges": money(charge.fuel, c),
            "totalFreightDiscount": money(charge.discount, c),
            "surCharges": [
                {"type": "FUEL", "description": "Fuel Surcharge", "amount": money(charge.fuel, c)}
            ],
            "taxes": [],
            "pricingCode": "PACKAGE",
            "currencyExchangeRate": {
                "fromCurrency": "JPY",
                "intoCurrency": c,
                "rate": float((1 / charge.to_jpy).quantize(Decimal("0.000001"))),
            },
            "totalBillingWeight": {
                "units": w.units,
                "value": float(billing.quantize(Decimal("0.1"), ROUND_CEILING)),
            },
            "totalDimWeight": {
                "units": w.units,
                "value": float(dim.quantize(Decimal("0.1"), ROUND_CEILING)),
            },
            "currency": c,
        },
        "currency": c,
    }


def shipment_rate_detail(charge: Charge, rate_type: str) -> dict[str, Any]:
    """One `completedShipmentDetail.shipmentRating.shipmentRateDetails[]` entry of a Ship reply."""
    c = charge.currency
    w = charge.weights
    net = money(charge.net, c)
    return {
        "rateType": rate_type,
        "rateZone": charge.zone,
        "ratedWeightMethod": "DIM" if w.dimensional_kg > w.actual_kg else "ACTUAL",
        "dimDivisor": DIM_DIVISOR,
        "fuelSurchargePercent": float(FUEL_SURCHARGE_PERCENT),
        "totalBillingWeight": {"units": "KG", "value": float(w.billable_kg)},
        "totalBaseCharge": money(charge.base, c),
        "totalFreightDiscounts": money(charge.discount, c),
        "totalNetFreight": money(charge.net_freight, c),
        "totalSurcharges": money(charge.fuel, c),
        "surcharges": [
            {
                "surchargeType": "FUEL",
                "description": "Fuel Surcharge",
                "amount": money(charge.fuel, c),
            }
        ],
        "totalTaxes": 0,
        "taxes": [],
        "totalNetCharge": net,
        "totalNetFedExCharge": net,
        "totalNetChargeWithDutiesAndTaxes": net,
        "totalDutiesAndTaxes": 0,
        "totalDutiesTaxesAndFees": 0,
        "totalAncillaryFeesAndTaxes": 0,
        "currency": c,
    }
