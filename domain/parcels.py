"""The parcel we assume when a product gives no weight or size: 500 g in a 20x15x10 cm box."""

from __future__ import annotations

DEFAULT_WEIGHT_G = 500
DEFAULT_LENGTH_CM = 20.0
DEFAULT_WIDTH_CM = 15.0
DEFAULT_HEIGHT_CM = 10.0
