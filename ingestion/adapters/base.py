"""What a channel adapter is: a `ChannelSpec` (configuration plus a small extractor) and the helpers extractors
use; `ingestion.adapters.normalise` turns any channel's extracted records into the unified model with one
polars pipeline.

Extraction (per record, Python) only pulls values out of the channel's structure as text. Everything
that interprets values (units, time formats, status codes, phone kinds, catalogue lookups, validation)
happens vectorised in `normalise`, driven by the spec, so a new channel is mostly a mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import polars as pl

from ingestion.records import RawRecord, RecordError

TimeFormat = Literal["iso", "epoch_s", "epoch_ms", "local"]
MoneyUnit = Literal["yuan", "fen"]

# Text fields pulled out of every order; missing ones are None.
ORDER_FIELDS = (
    "channel_order_id",
    "store_id",
    "channel_user_id",
    "recipient_name",
    "phone",
    # Free text that may carry the customer's masked real number beside a relay number (Meituan's caution).
    "phone_hint",
    "address_raw",
    # A second text for the same place whose district is used when address_raw names none (Meituan's
    # reverse-geocoded address after @#); not a contract column.
    "address_fallback",
    "lat",
    "lng",
    "created_at",
    "paid_at",
    "promised_from",
    "promised_to",
    "status_time",
    "status",
    "goods_amount",
    "merchant_discount",
    "platform_discount",
    "delivery_fee",
    "packaging_fee",
    "paid_amount",
    "merchant_receivable",
    "payment_method",
    "fulfilment",
    # Already one of contract.DELIVERED_BY (or None): the adapter knows its channel's codes.
    "delivered_by",
)
LINE_FIELDS = (
    "sku_id",
    "channel_sku",
    "name",
    "quantity",
    "unit_price",
    "original_price",
    "line_discount",
    "paid_amount",
)
MONEY_ORDER_FIELDS = (
    "goods_amount",
    "merchant_discount",
    "platform_discount",
    "delivery_fee",
    "packaging_fee",
    "paid_amount",
    "merchant_receivable",
)
# What the platform itself states the merchant receives for the order; absent (null) where it says nothing.
STATED_MONEY_FIELDS = ("paid_amount", "merchant_receivable")
MONEY_LINE_FIELDS = ("unit_price", "original_price", "line_discount", "paid_amount")
TIME_FIELDS = ("created_at", "paid_at", "promised_from", "promised_to", "status_time")


@dataclass(frozen=True)
class Extracted:
    """One record's values as text, in the channel's own units and codes."""

    order: dict[str, str | None]
    lines: list[dict[str, str | None]]
    # What names this version of the order, when it is not the record's whole text: a platform that signs
    # every push sends a retry of the same order with a new timestamp and signature, which is a duplicate.
    version_hash: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    file_format: Literal["jsonl", "csv"]
    extract: Callable[[RawRecord], Extracted]
    time_format: TimeFormat
    money_unit: MoneyUnit
    status_map: Mapping[str, str]
    fulfilment_map: Mapping[str, str]
    payment_map: Mapping[str, str] = field(default_factory=dict)
    # Whether `extract` gives an `address_fallback`: a re-key of stored orders reads this channel's stored
    # records again for it (ingestion/address_rekey.py); other channels' records are not re-read.
    address_fallback: bool = False
    # Coordinates arrive as degrees × this factor (Meituan sends GCJ-02 × 1e6 integers).
    coordinate_scale: float = 1.0
    csv_header: tuple[str, ...] = ()
    csv_key_column: str = ""
    # What a later record of an order already loaded means: "replace" — a new version of the whole order
    # (a platform re-push carries the full order); "accumulate" — more rows of the same ticket (a till's
    # export is an append-only journal, so a ticket cut by an export boundary continues in the next file).
    versions: Literal["replace", "accumulate"] = "replace"
    # accumulate only: a later row differing from an applied row in this column alone is that row's new status.
    csv_status_column: str = ""


def text(value: Any) -> str | None:
    """A JSON value as text, the one representation extraction hands on; blanks become None."""
    # Exact types first: extraction calls this millions of times a batch, and isinstance against the
    # Mapping ABC was a sixth of extraction; subclasses still take the general path.
    kind = type(value)
    if kind is str:
        return value.strip() or None
    if value is None:
        return None
    if kind is float or kind is int:
        return _number_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


# Prices, quantities and amounts repeat across a batch, and writing a float is slow (its shortest repr).
# `typed`: an int and an equal float are kept apart (they write the same, but a cache need not rely on it).
@lru_cache(maxsize=65536, typed=True)
def _number_text(value: float | int) -> str:
    """What `text` writes for a JSON number: an integral float without its .0."""
    if type(value) is float and value.is_integer():
        return str(int(value))
    return str(value)


@lru_cache(maxsize=65536, typed=True)
def _money_of_float(value: float) -> str:
    return _number_text(round(value, 2))


def money_text(value: float | None) -> str | None:
    """An amount rounded to the fen, as `text` writes it: `text(round(value, 2))`, None for None."""
    if value is None:
        return None
    if type(value) is float:
        return _money_of_float(value)
    return text(round(value, 2))


def require_mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise RecordError("broken_json", f"{what} is not a JSON object")
    return value


def require_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise RecordError("missing_field", f"{what} is missing or not a list")
    return value


def require_objects(items: list[Any], what: str) -> list[Mapping[str, Any]]:
    """Every entry of a list of items or groups, each a JSON object. An entry that is not one (a bare
    "SKU0004*1") cannot be read as a line, and skipping it would load the order with a line missing."""
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise RecordError("bad_value", f"{what} {position} is not a JSON object: {str(item)[:40]!r}")
    return items


@dataclass
class NormalisedBatch:
    orders: pl.DataFrame
    lines: pl.DataFrame
    events: pl.DataFrame
    quarantine: pl.DataFrame
    # The loaded orders' record texts (source_file, source_line, raw), for their history rows.
    texts: pl.DataFrame | None = None


@dataclass(frozen=True)
class Catalogue:
    """What normalisation checks records against: known stores and products."""

    store_ids: frozenset[str]
    products: pl.DataFrame  # sku_id, weight_g, volume_ml, temp_zone
