"""What the gateway reads of an order at the moment of sale: its key, store, time, status and units per SKU.

The channel's own adapter extracts the record (`ChannelSpec.extract`, the batch path's code) and the spec's
maps interpret it; only the facts a reservation stands on are checked here, in plain Python, in microseconds.
The full normalisation (addresses, phones, money rules) runs when the order lands, in bulk, where it is cheap:
run per push it cost milliseconds of fixed overhead and capped the gateway near a hundred pushes a second.

An order whose stock facts are readable holds its units even when its address or amounts will send it to
quarantine: the customer paid for those units, and the quarantine's replay brings the order in. A record whose
stock facts are not readable holds nothing and is landed for the batch path to quarantine with its reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Set
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ingestion.adapters.base import ChannelSpec
from ingestion.adapters.normalise import EARLIEST_TIME, LATEST_TIME, MAX_QUANTITY
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.records import RawRecord, RecordError

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)


@dataclass(frozen=True)
class OrderRead:
    order_key: str
    store_id: str
    created_at: dt.datetime  # aware, UTC
    business_date: str  # the landing folder: the order's local day
    lines: dict[str, int]  # sku → units
    cancelled: bool
    content_hash: str  # what the order says, status times left out: the same order pushed again hashes the same
    # The channel's status time (aware, UTC), which ranks the order's versions in the warehouse
    # (ingestion/order_versions.py `_VERSION_ORDER`); None when the record states none or one that cannot be read.
    status_at: dt.datetime | None = None


class Unreadable(ValueError):
    pass


def read_order(spec: ChannelSpec, record: str, stores: Set[str], skus: Set[str]) -> OrderRead:
    try:
        extracted = spec.extract(RawRecord("gateway", 1, record))
    except RecordError as err:
        raise Unreadable(err.message) from err
    order = extracted.order
    order_id, store = order.get("channel_order_id"), order.get("store_id")
    if not order_id:
        raise Unreadable("order id is empty")
    if not store or store not in stores:
        raise Unreadable(f"store '{store}' is not in the store list: add it or map the channel's store code")
    created_at = channel_time(spec, order.get("created_at"))
    if created_at is None:
        raise Unreadable(f"order time '{order.get('created_at')}' is not a {spec.time_format} time")
    status = spec.status_map.get((order.get("status") or "").strip())
    if status is None:
        raise Unreadable(f"status '{order.get('status')}' is not a known status code")
    units: dict[str, int] = {}
    for n, line in enumerate(extracted.lines, start=1):
        sku = line.get("sku_id")
        if not sku or sku not in skus:
            raise Unreadable(f"line {n}: SKU '{sku}' is not in the product catalogue: add it or map it")
        try:
            quantity = float(line.get("quantity") or "")
        except ValueError:
            raise Unreadable(f"line {n}: quantity '{line.get('quantity')}' is not a whole number") from None
        if not quantity.is_integer() or not 0 < quantity <= MAX_QUANTITY:
            raise Unreadable(f"line {n}: quantity '{line.get('quantity')}' is not a whole number of units")
        units[sku] = units.get(sku, 0) + int(quantity)
    if not units:
        raise Unreadable("order has no items")
    semantic = {k: v for k, v in order.items() if k != "status_time"}
    content = json.dumps([semantic, extracted.lines], sort_keys=True, ensure_ascii=False)
    return OrderRead(
        order_key=f"{spec.channel}:{order_id}",
        store_id=store,
        created_at=created_at,
        business_date=created_at.astimezone(_LOCAL).date().isoformat(),
        lines=units,
        cancelled=status == "cancelled",
        content_hash=hashlib.blake2b(content.encode(), digest_size=16).hexdigest(),
        status_at=channel_time(spec, order.get("status_time")),
    )


def record_status_time(spec: ChannelSpec, record: str) -> dt.datetime | None:
    """The status time of one landing line of the channel, or None (none stated, or the line not readable)."""
    try:
        extracted = spec.extract(RawRecord("gateway", 1, record))
    except RecordError:
        return None
    return channel_time(spec, extracted.order.get("status_time"))


def channel_time(spec: ChannelSpec, value: str | None) -> dt.datetime | None:
    """A time of the channel's format (aware, UTC) as the batch normaliser reads it (ingestion.adapters.normalise
    _utc_time: RFC 3339 with a Z or fractions for `iso`, epoch numbers above 0, the same 2000-2100 range), so the
    gateway reads an order's times, and ranks its versions, as the warehouse does. None for a time that is not
    given or cannot be read: the warehouse ranks such a version below every other."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if spec.time_format == "iso":
            parsed = _rfc3339(text)
        elif spec.time_format in ("epoch_s", "epoch_ms"):
            number = int(text)
            if number <= 0:
                return None
            parsed = dt.datetime.fromtimestamp(number / (1000 if spec.time_format == "epoch_ms" else 1), dt.UTC)
        else:
            local = dt.datetime.strptime(text.replace("T", " ", 1), "%Y-%m-%d %H:%M:%S")
            parsed = local.replace(tzinfo=_LOCAL)  # fold 0: an ambiguous hour reads as its earlier instant
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    utc = parsed.astimezone(dt.UTC)
    return utc if EARLIEST_TIME <= utc.replace(tzinfo=None) < LATEST_TIME else None


def _rfc3339(text: str) -> dt.datetime | None:
    with_offset = (text[:-1] + "+00:00" if text[-1:] in "Zz" else text).replace(" ", "T", 1)
    for pattern in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return dt.datetime.strptime(with_offset, pattern)
        except ValueError:
            continue
    return None
