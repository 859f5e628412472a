"""Carriers behind one `Carrier` protocol (base), one per vendor module (fedex, yamato, sagawa),
the Japanese CSV hand-off Yamato and Sagawa share (jp_csv), and the registry the workers use."""

from adapters.carriers.base import (
    Address,
    Carrier,
    Commodity,
    Customs,
    Label,
    Parcel,
    RateQuote,
    ShipmentRequest,
    TrackingEvent,
    TrackingInfo,
    TrackingStatus,
)

__all__ = [
    "Address",
    "Carrier",
    "Commodity",
    "Customs",
    "Label",
    "Parcel",
    "RateQuote",
    "ShipmentRequest",
    "TrackingEvent",
    "TrackingInfo",
    "TrackingStatus",
]
