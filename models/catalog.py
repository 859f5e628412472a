"""Products: the Japanese source record, the English listing, and the eBay identifiers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from domain.catalog import Condition
from domain.parcels import (
    DEFAULT_HEIGHT_CM,
    DEFAULT_LENGTH_CM,
    DEFAULT_WEIGHT_G,
    DEFAULT_WIDTH_CM,
)
from models.types import json_field, timestamp, uuid_pk


class ProductStatus(StrEnum):
    draft = "draft"
    generating = "generating"
    awaiting_approval = "awaiting_approval"
    publishing = "publishing"
    listed = "listed"
    rejected = "rejected"
    failed = "failed"
    ended = "ended"
    sold_out = "sold_out"


class Product(SQLModel, table=True):
    __tablename__ = "products"

    id: uuid.UUID = uuid_pk()
    sku: str = Field(max_length=50, unique=True, index=True)
    # Japanese source record, as staff write it
    title_ja: str = Field(max_length=255)
    description_ja: str = Field(default="", max_length=10000)
    brand: str = Field(default="", max_length=120)
    category_hint: str = Field(default="", max_length=120)
    condition: Condition = Field(default=Condition.used_good, max_length=40)
    condition_notes: str = Field(default="", max_length=2000)
    price_jpy: int = Field(ge=0)
    quantity: int = Field(default=1, ge=0)
    weight_g: int = Field(default=DEFAULT_WEIGHT_G, ge=1)
    length_cm: float = Field(default=DEFAULT_LENGTH_CM, gt=0)
    width_cm: float = Field(default=DEFAULT_WIDTH_CM, gt=0)
    height_cm: float = Field(default=DEFAULT_HEIGHT_CM, gt=0)
    hs_code: str = Field(default="", max_length=12)
    image_keys: list[str] = json_field(list)
    tags: list[str] = json_field(list)
    # English listing (written by AI, approved or edited by staff)
    title_en: str = Field(default="", max_length=80)
    description_html: str = Field(default="", max_length=50000)
    item_specifics: dict[str, Any] = json_field(dict)
    ebay_category_id: str = Field(default="", max_length=20)
    price_usd: str = Field(default="", max_length=20)
    ai_generation: dict[str, Any] = json_field(dict)
    # eBay
    status: ProductStatus = Field(default=ProductStatus.draft, max_length=30, index=True)
    ebay_offer_id: str = Field(default="", max_length=40)
    ebay_listing_id: str = Field(default="", max_length=40)
    listing_workflow_id: str = Field(default="", max_length=200)
    last_error: str = Field(default="", max_length=2000)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
