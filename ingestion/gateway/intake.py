"""What happens to a channel's push once its signature is good: the order is read by the batch path's own adapter,
its stock is reserved, it is appended to the durable intake log, and only then is the channel answered.

The order of those steps is what makes a crash harmless. A reservation is durable before the append, and the
append is durable before the answer; a push the channel saw no answer to comes again, finds its reservation
`unchanged` and is appended if the log does not have it yet. Nothing is reserved twice and nothing answered is
lost. An order the log received twice (a crash between append and the mark that says so) is one order in the
warehouse: the batch loader counts an identical record as a duplicate.

What the channel hears:
- an order we can hold stock for, or one whose channel accepts short stock: accepted;
- short stock on a channel whose rule is to refuse: our apps are told `out_of_stock` (409) before the customer's
  order is confirmed; a platform's paid order cannot be un-pushed, so the push is accepted and the order queued
  for the platform's cancel call (`refusals`). Either way the order lands placed-then-cancelled, so the
  warehouse sees the demand it could not serve and holds nothing for it;
- a record no adapter can read: it is landed all the same (the batch path quarantines it with its reason);
  our apps are told why (422), platforms are acknowledged (they would only re-push the same bytes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl
import redis

from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import normalise
from ingestion.buffer.log import IntakeEntry, IntakeLog
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.gateway.cancellations import as_cancelled
from ingestion.gateway.protocols import Push
from ingestion.records import RawRecord, RecordError
from ingestion.stock.counters import LiveCounters
from ingestion.stock.reservations import OrderDemand, StockLedger

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)
OWN_CHANNELS = frozenset({"app", "miniprogram"})
# How long the gateway remembers an order's last record and what it answered (a cancel notice can come days
# after the order; a retried push within minutes).
MEMORY_SECONDS = 14 * 24 * 3600

ShortStockRule = Literal["refuse", "accept"]


@dataclass(frozen=True)
class Answer:
    accepted: bool
    code: str  # accepted | duplicate | out_of_stock | unreadable | cancelled | unknown_order | …
    message: str = ""
    status: int = 200
    order_key: str | None = None


@dataclass(frozen=True)
class _Read:
    order_key: str
    store_id: str
    created_at: dt.datetime
    business_date: str
    lines: dict[str, int]
    cancelled: bool
    content_hash: str


@dataclass
class Intake:
    client: redis.Redis
    ledger: StockLedger
    log: IntakeLog
    counters: LiveCounters
    catalogue: Catalogue
    short_stock: Mapping[str, ShortStockRule] = field(default_factory=dict)
    namespace: str = "oh"
    clock: Callable[[], float] = time.time

    def take(self, push: Push) -> Answer:
        if push.kind in ("ping", "notice"):
            # A URL check, or a push we do not act on (delivery tracking, a refund still being asked for, a
            # partial refund): acknowledged, or the platform would keep sending it.
            return Answer(True, push.kind)
        if push.kind == "cancel":
            return self._cancel(push)
        return self._order(push.channel, push.record or "")

    # -- orders ---------------------------------------------------------------------------------------------

    def _order(self, channel: str, record: str) -> Answer:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        read = self._read(channel, record, now)
        if isinstance(read, Answer):
            return read
        rule = self.short_stock.get(channel, "refuse")
        # The record is kept before the stock is touched: a cancel notice racing this push then finds it.
        self.client.set(self._key("record", read.order_key), record, ex=MEMORY_SECONDS)
        cancelled_early = not read.cancelled and bool(self.client.exists(self._key("cancelled", read.order_key)))
        demand = OrderDemand(
            read.order_key,
            channel,
            read.store_id,
            read.created_at,
            read.lines,
            read.cancelled or cancelled_early,
            read.content_hash,
        )
        reservation = self.ledger.reserve(demand, allow_short=rule == "accept", now=now)
        outcome = reservation.outcome
        remembered = self._answered(read.order_key)
        if outcome in ("unchanged", "already_released") and remembered and remembered[0] == read.content_hash:
            self.counters.incr(channel, "duplicate", at=now)
            return self._answer(channel, remembered[1], read.order_key, duplicate=True)

        if outcome == "refused_short" or (outcome == "unchanged" and remembered and remembered[1] == "out_of_stock"):
            code = "out_of_stock"
            self._land(channel, read, record, now)
            self._land(channel, read, as_cancelled(channel, record, now), now)
            if channel not in OWN_CHANNELS:
                self._queue_platform_refusal(channel, read, reservation.short)
        elif cancelled_early or (outcome == "already_released" and not read.cancelled):
            code = "cancelled"  # cancelled before this first push arrived: hold nothing, land it cancelled
            self._land(channel, read, record, now)
            self._land(channel, read, as_cancelled(channel, record, now), now)
        else:
            code = "accepted"
            self._land(channel, read, record, now)
        self._remember(read.order_key, read.content_hash, code)
        return self._answer(channel, code, read.order_key)

    def _read(self, channel: str, record: str, now: dt.datetime) -> _Read | Answer:
        """The order as the batch path will read it, or the answer for a record it will quarantine."""
        spec = ADAPTERS[channel]
        raw = RawRecord("gateway", 1, record)
        try:
            extracted = spec.extract(raw)
        except RecordError as err:
            return self._unreadable(channel, record, err.message, now)
        batch = normalise(spec, [raw], self.catalogue, batch_id="gateway", received_at=now.replace(tzinfo=None))
        if batch.orders.height == 0:
            message = batch.quarantine["message"][0] if batch.quarantine.height else "not an order"
            return self._unreadable(channel, record, message, now, order_id=extracted.order.get("channel_order_id"))
        order = batch.orders.row(0, named=True)
        lines = batch.lines.group_by("sku_id").agg(pl.col("quantity").sum())
        created_at = order["created_at"].replace(tzinfo=dt.UTC)
        semantic = {k: v for k, v in extracted.order.items() if k != "status_time"}
        content = json.dumps([semantic, extracted.lines], sort_keys=True, ensure_ascii=False)
        return _Read(
            order_key=order["order_key"],
            store_id=order["store_id"],
            created_at=created_at,
            business_date=created_at.astimezone(_LOCAL).date().isoformat(),
            lines={row[0]: int(row[1]) for row in lines.iter_rows()},
            cancelled=order["status"] == "cancelled",
            content_hash=hashlib.blake2b(content.encode(), digest_size=16).hexdigest(),
        )

    def _unreadable(self, channel: str, record: str, reason: str, now: dt.datetime, order_id=None) -> Answer:
        """Landed anyway, so the batch path quarantines it with its reason: nothing a channel sent is lost."""
        self.counters.incr(channel, "unreadable", at=now)
        business_date = now.astimezone(_LOCAL).date().isoformat()
        key = f"{channel}:{order_id}" if order_id else f"{channel}:unreadable"
        self.log.append(IntakeEntry(channel, business_date, key, record, int(now.timestamp() * 1000)))
        if channel in OWN_CHANNELS:
            return Answer(False, "unreadable", reason, 422)
        return Answer(True, "unreadable", reason)

    # -- cancellations ----------------------------------------------------------------------------------------

    def _cancel(self, push: Push) -> Answer:
        now = dt.datetime.fromtimestamp(self.clock(), dt.UTC)
        order_key = f"{push.channel}:{push.channel_order_id}"
        record = self.client.get(self._key("record", order_key))
        record = record.decode() if isinstance(record, bytes) else record
        if record is None:
            # Cancelled before we saw the order (pushes overtake each other): its first push will hold nothing.
            self.client.set(self._key("cancelled", order_key), push.reason or "cancelled", ex=MEMORY_SECONDS)
            self.counters.incr(push.channel, "cancel_before_order", at=now)
            return Answer(True, "unknown_order", "no order with this id yet: it will hold nothing", 200, order_key)
        return self._order(push.channel, as_cancelled(push.channel, record, now))

    # -- the log and what the gateway remembers ---------------------------------------------------------------

    def _land(self, channel: str, read: _Read, record: str, now: dt.datetime) -> None:
        self.log.append(IntakeEntry(channel, read.business_date, read.order_key, record, int(now.timestamp() * 1000)))

    def _queue_platform_refusal(self, channel: str, read: _Read, short: Mapping) -> None:
        detail = {sku: {"wanted": s.wanted, "available": s.available} for sku, s in short.items()}
        self.client.xadd(
            self._key("refusals"),
            {"channel": channel, "order_key": read.order_key, "reason": "out_of_stock", "short": json.dumps(detail)},
            maxlen=100_000,
            approximate=True,
        )

    def _remember(self, order_key: str, content_hash: str, code: str) -> None:
        self.client.set(self._key("answered", order_key), f"{content_hash}|{code}", ex=MEMORY_SECONDS)

    def _answered(self, order_key: str) -> tuple[str, str] | None:
        value = self.client.get(self._key("answered", order_key))
        if value is None:
            return None
        content_hash, _, code = (value.decode() if isinstance(value, bytes) else value).partition("|")
        return content_hash, code

    def _answer(self, channel: str, code: str, order_key: str, duplicate: bool = False) -> Answer:
        if code == "out_of_stock" and channel in OWN_CHANNELS:
            return Answer(False, code, "not enough stock for every line of the order", 409, order_key)
        if code == "out_of_stock":
            return Answer(True, code, "short of stock: queued for the platform's cancel call", 200, order_key)
        return Answer(True, "duplicate" if duplicate else code, "", 200, order_key)

    def _key(self, *parts: str) -> str:
        return ":".join((self.namespace, *parts))
