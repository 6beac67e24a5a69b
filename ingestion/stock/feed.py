"""The stock feed back to the channels: what each channel may sell, pushed when it changes.

`AllocationRules.per_channel` is fct_channel_stock_feed.sql's rule in Python (the values of the rules.yml
keys of the same names are passed in: this package reads no config). `StockFeedPublisher` drains the outbox
stream the reserve script writes, through a consumer group: it keeps the newest available per store and
SKU, works out each channel's quantity and sends only those that changed since the channel was last told.
Entries are acknowledged after every sender of their store returned; a sender that raises leaves them
pending, and the next drain retries them (channels already told are not told again).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import redis

from ingestion.stock import keys, platform_requests

log = logging.getLogger(__name__)

MODES = ("shared", "fixed_share")


@dataclass(frozen=True)
class AllocationRules:
    safety_stock_units: int
    safety_stock_by_category: Mapping[str, int]
    sku_category: Mapping[str, str]
    channels: Sequence[str]
    channel_allocation: Mapping[str, Mapping[str, object]]

    def __post_init__(self) -> None:
        fixed_total = 0.0
        for channel in self.channels:
            rule = self.rule(channel)
            mode = rule.get("mode")
            if mode not in MODES:
                raise ValueError(f"channel_allocation for {channel}: mode must be shared or fixed_share, got {mode}")
            if mode == "fixed_share":
                share = rule.get("share")
                if not isinstance(share, int | float) or not 0 < share <= 1:
                    raise ValueError(f"channel_allocation for {channel}: fixed_share needs a share in (0, 1]")
                fixed_total += share
        if fixed_total > 1:
            raise ValueError(f"channel_allocation: fixed shares add up to {fixed_total}, more than 1")

    def rule(self, channel: str) -> Mapping[str, object]:
        rule = self.channel_allocation.get(channel, self.channel_allocation.get("default"))
        if rule is None:
            raise ValueError(f"channel_allocation has no rule for {channel} and no default")
        return rule

    def safety_stock(self, sku_id: str) -> int:
        category = self.sku_category.get(sku_id)
        return int(self.safety_stock_by_category.get(category, self.safety_stock_units))

    def per_channel(self, sku_id: str, available: int) -> dict[str, int]:
        sellable = max(available - self.safety_stock(sku_id), 0)
        fixed = {
            channel: math.floor(sellable * float(self.rule(channel)["share"]))
            for channel in self.channels
            if self.rule(channel)["mode"] == "fixed_share"
        }
        shared = sellable - sum(fixed.values())
        return {channel: fixed.get(channel, shared) for channel in self.channels}


@dataclass(frozen=True)
class Published:
    channel: str
    store_id: str
    request: dict
    stock: Mapping[str, int]  # sku_id -> units told
    latency_ms: int  # from the oldest change this send carries (its at_ms) to the send returning
    unmapped: tuple[str, ...] = field(default=())  # SKUs left out: the channel has no id for them


@dataclass
class _StoreBatch:
    entry_ids: list[str] = field(default_factory=list)
    available: dict[str, int] = field(default_factory=dict)
    first_at_ms: dict[str, int] = field(default_factory=dict)


class StockFeedPublisher:
    def __init__(
        self,
        client: redis.Redis,
        rules: AllocationRules,
        senders: Mapping[str, Callable[[dict], None]],
        namespace: str = "oh",
        group: str = "stock-feed",
        consumer: str = "publisher-1",
        eleme_sku_ids: Mapping[str, int] | None = None,
        claim_idle_ms: int = 60_000,
    ) -> None:
        missing = [c for c in rules.channels if c not in senders]
        if missing:
            raise ValueError(f"no sender for channel(s) {missing}: every feed channel needs one")
        self._client = client
        self._rules = rules
        self._senders = senders
        self._ns = namespace
        self._group = group
        self._consumer = consumer
        self._eleme_sku_ids = eleme_sku_ids
        self._claim_idle_ms = claim_idle_ms
        self._stream = keys.changes(namespace)
        self._group_ready = False

    def drain_once(self, block_ms: int = 0, count: int = 10_000) -> list[Published]:
        stores, malformed = _coalesce(self._read(block_ms, count))
        if malformed:
            self._client.xack(self._stream, self._group, *malformed)
        published: list[Published] = []
        for store_id, batch in stores.items():
            done, failed = self._publish_store(store_id, batch)
            published.extend(done)
            if failed:
                # Left pending: the next drain reads it again (and skips the channels already told).
                log.warning("stock feed for store %s: %s failed; %d changes stay pending", store_id, failed,
                            len(batch.entry_ids))  # fmt: skip
                continue
            self._client.xack(self._stream, self._group, *batch.entry_ids)
        return published

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self._client.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    def _read(self, block_ms: int, count: int) -> list[tuple[str, dict]]:
        self._ensure_group()
        # Entries a crashed publisher had read but never acknowledged come back to this one.
        self._client.xautoclaim(self._stream, self._group, self._consumer, self._claim_idle_ms, count=count)
        own = self._client.xreadgroup(self._group, self._consumer, {self._stream: "0"}, count=count)
        entries = [e for _, batch in own for e in batch if e[1]]
        if len(entries) < count:
            fresh = self._client.xreadgroup(
                self._group, self._consumer, {self._stream: ">"}, count=count - len(entries),
                block=None if entries or block_ms <= 0 else block_ms,
            )  # fmt: skip
            entries += [e for _, batch in fresh or [] for e in batch]
        return [(_text(i), {_text(k): _text(v) for k, v in f.items()}) for i, f in entries]

    def _publish_store(self, store_id: str, batch: _StoreBatch) -> tuple[list[Published], list[str]]:
        """What was sent, and the channels whose sender raised (each channel is tried regardless)."""
        told_key = keys.published(self._ns, store_id)
        wanted = {
            (channel, sku): units
            for sku, available in batch.available.items()
            for channel, units in self._rules.per_channel(sku, available).items()
        }
        fields = [f"{channel}|{sku}" for channel, sku in wanted]
        told = dict(zip(fields, self._client.hmget(told_key, fields), strict=True)) if fields else {}
        by_channel: dict[str, dict[str, int]] = {}
        for (channel, sku), units in wanted.items():
            previous = told[f"{channel}|{sku}"]
            if previous is None or int(_text(previous)) != units:
                by_channel.setdefault(channel, {})[sku] = units
        published: list[Published] = []
        failed: list[str] = []
        for channel, stock in by_channel.items():
            try:
                published.extend(self._publish_channel(store_id, batch, channel, stock))
            except Exception:
                log.exception("stock feed for store %s: the %s sender failed", store_id, channel)
                failed.append(channel)
        return published, failed

    def _publish_channel(
        self, store_id: str, batch: _StoreBatch, channel: str, stock: dict[str, int]
    ) -> list[Published]:
        told_key = keys.published(self._ns, store_id)
        published: list[Published] = []
        build = platform_requests.builder(channel, self._eleme_sku_ids)
        unmapped = ()
        if channel == "eleme" and self._eleme_sku_ids is not None:
            unmapped = tuple(sorted(s for s in stock if s not in self._eleme_sku_ids))
            stock = {s: u for s, u in stock.items() if s in self._eleme_sku_ids}
            if unmapped:
                log.warning("store %s: no Eleme SKU id for %s; not published to eleme", store_id, unmapped)
        items = list(stock.items())
        limit = platform_requests.batch_limit(channel)
        for start in range(0, len(items), limit):
            part = dict(items[start : start + limit])
            request = build(store_id, part)
            self._senders[channel](request)
            self._client.hset(told_key, mapping={f"{channel}|{sku}": units for sku, units in part.items()})
            oldest = min(batch.first_at_ms[sku] for sku in part)
            published.append(Published(channel, store_id, request, part, int(time.time() * 1000) - oldest, unmapped))
            unmapped = ()
        if not items and unmapped:
            published.append(Published(channel, store_id, {}, {}, 0, unmapped))
        return published


def _coalesce(entries: list[tuple[str, dict]]) -> tuple[dict[str, _StoreBatch], list[str]]:
    """The newest available per store and SKU (stream ids are in order), with the oldest change's time;
    and the ids of entries that are not stock changes (logged, to be acknowledged: retrying cannot fix them)."""
    stores: dict[str, _StoreBatch] = {}
    malformed: list[str] = []
    for entry_id, f in sorted(entries, key=lambda e: tuple(int(p) for p in e[0].split("-"))):
        try:
            store, sku, available, at_ms = f["store_id"], f["sku_id"], int(f["available"]), int(f["at_ms"])
            keys.position("oh", store, sku)
        except (KeyError, ValueError):
            log.error("stock change %s is malformed (%s); acknowledged without publishing", entry_id, f)
            malformed.append(entry_id)
            continue
        batch = stores.setdefault(store, _StoreBatch())
        batch.entry_ids.append(entry_id)
        batch.available[sku] = available
        batch.first_at_ms.setdefault(sku, at_ms)
    return stores, malformed


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
