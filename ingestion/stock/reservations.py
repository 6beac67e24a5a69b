"""Stock reservations in Redis: an order's lines are held all or none, at the moment of sale.

The ledger mirrors the warehouse's stock positions (fct_stock_positions): per store and SKU the latest WMS
count, plus goods moved since it, minus units of the orders created at or after it that are not cancelled.
A SKU without a count is unknown, not zero: its lines are accepted unguarded. Each write is one Lua script
(atomic on the server); every change of an available quantity is appended to the outbox stream in that same
script, so the feed back to the channels can never miss one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Literal

import redis

from ingestion.stock import keys

Outcome = Literal[
    "reserved", "unchanged", "changed", "released", "refused_short", "accepted_short", "already_released", "stale"
]
# Another push of the same order can change its stored lines between our read and the script: read again.
_RETRIES = 8


@dataclass(frozen=True)
class StockCount:
    store_id: str
    sku_id: str
    on_hand: int
    counted_at: datetime  # aware


@dataclass(frozen=True)
class StockMovement:
    movement_id: str
    store_id: str
    sku_id: str
    quantity_change: int
    moved_at: datetime


@dataclass(frozen=True)
class OrderDemand:
    order_key: str
    channel: str
    store_id: str
    created_at: datetime
    lines: Mapping[str, int]  # sku -> units (summed over the order's lines)
    cancelled: bool
    content_hash: str
    # The channel's status time of this version (aware), which ranks an order's versions in the warehouse: a push
    # older than the version already applied changes nothing (outcome `stale`). None: the version states none.
    status_at: datetime | None = None


@dataclass(frozen=True)
class Short:
    wanted: int
    available: int


@dataclass(frozen=True)
class Reservation:
    outcome: Outcome
    short: Mapping[str, Short] = field(default_factory=dict)
    unguarded: tuple[str, ...] = ()
    # The order's state after the push: active (holding), refused (short, holding nothing), released.
    state: str = ""


def _script(client: redis.Redis, name: str):
    source = resources.files("ingestion.stock").joinpath(name).read_text(encoding="utf-8")
    return client.register_script(source)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _whole(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return value


class StockLedger:
    def __init__(self, client: redis.Redis, namespace: str = "oh") -> None:
        self._client = client
        self._ns = namespace
        self._reserve = _script(client, "reserve.lua")
        self._count = _script(client, "count.lua")
        self._movement = _script(client, "movement.lua")

    def load_counts(self, counts: Iterable[StockCount], now: datetime | None = None) -> int:
        """Make each count current unless one as new is there already; returns how many became current."""
        now_ms = keys.to_ms(now or datetime.now().astimezone(), "now")
        pipe = self._client.pipeline(transaction=False)
        n = 0
        for c in counts:
            on_hand = _whole(f"on_hand of {c.store_id}/{c.sku_id}", c.on_hand)
            ns, store, sku = self._ns, c.store_id, c.sku_id
            self._count(
                keys=[
                    keys.position(ns, store, sku), keys.demand(ns, store, sku), keys.moves(ns, store, sku),
                    keys.move_ids(ns, store), keys.counted_skus(ns, store), keys.orders(ns, store),
                    keys.changes(ns),
                ],
                args=[store, sku, on_hand, keys.to_ms(c.counted_at, "counted_at"), now_ms, keys.order_prefix(ns, store)],
                client=pipe,
            )  # fmt: skip
            n += 1
        return sum(int(r) for r in pipe.execute()) if n else 0

    def apply_movements(self, movements: Iterable[StockMovement], now: datetime | None = None) -> int:
        """Record goods movements once each (by movement_id); returns how many were new and counted."""
        now_ms = keys.to_ms(now or datetime.now().astimezone(), "now")
        pipe = self._client.pipeline(transaction=False)
        n = 0
        for m in movements:
            if not isinstance(m.movement_id, str) or not m.movement_id:
                raise ValueError(f"movement_id must be a non-empty string, got {m.movement_id!r}")
            change = _whole(f"quantity_change of movement {m.movement_id}", m.quantity_change)
            ns, store, sku = self._ns, m.store_id, m.sku_id
            self._movement(
                keys=[
                    keys.position(ns, store, sku),
                    keys.moves(ns, store, sku),
                    keys.move_ids(ns, store),
                    keys.changes(ns),
                ],
                args=[store, sku, m.movement_id, change, keys.to_ms(m.moved_at, "moved_at"), now_ms],
                client=pipe,
            )
            n += 1
        return sum(int(r) for r in pipe.execute()) if n else 0

    def reserve(self, demand: OrderDemand, allow_short: bool, now: datetime) -> Reservation:
        return self.reserve_many([(demand, allow_short)], now)[0]

    def reserve_many(self, demands: Sequence[tuple[OrderDemand, bool]], now: datetime) -> list[Reservation]:
        """Reservations in order, as if made one after the other, in one round trip: Redis runs the pipelined
        scripts one by one, each atomic. Under load this is what keeps the gateway from waiting on the network
        (and on the AOF fsync) once per order."""
        checked = [(demand, allow_short, self._check(demand)) for demand, allow_short in demands]
        now_ms = keys.to_ms(now, "now")
        # Most pushes are first pushes: try with the demand's own SKUs, and only when the script finds the
        # stored order names others (a change or a cancel) read them and pass their keys too.
        pipe = self._client.pipeline(transaction=False)
        for demand, allow_short, lines in checked:
            self._call(demand, allow_short, lines, sorted(lines), now_ms, pipe)
        replies = pipe.execute() if checked else []
        out = []
        for (demand, allow_short, lines), reply in zip(checked, replies, strict=True):
            for _ in range(_RETRIES):
                if _text(reply[0]) != "retry":
                    break
                stored = self._client.hget(keys.order(self._ns, demand.store_id, demand.order_key), "lines")
                skus = sorted(set(lines) | set(json.loads(_text(stored)) if stored else ()))
                reply = self._call(demand, allow_short, lines, skus, now_ms, self._client)
            else:
                raise RuntimeError(
                    f"order {demand.order_key}: its stored lines kept changing during {_RETRIES} attempts"
                )
            short = json.loads(_text(reply[1]))
            out.append(
                Reservation(
                    outcome=_text(reply[0]),  # type: ignore[arg-type]
                    short={sku: Short(int(w), int(a)) for sku, (w, a) in short.items()},
                    unguarded=tuple(json.loads(_text(reply[2]))),
                    state=_text(reply[3]),
                )
            )
        return out

    def _call(
        self, demand: OrderDemand, allow_short: bool, lines: dict[str, int], skus: list[str], now_ms: int, client
    ):
        ns, store = self._ns, demand.store_id
        sku_keys = [k for sku in skus for k in (keys.position(ns, store, sku), keys.demand(ns, store, sku))]
        return self._reserve(
            keys=[keys.order(ns, store, demand.order_key), keys.orders(ns, store), keys.changes(ns),
                  keys.counters(ns, keys.minute_of(now_ms)), *sku_keys],
            args=[demand.order_key, demand.channel, store, keys.to_ms(demand.created_at, "created_at"),
                  int(demand.cancelled), demand.content_hash, int(allow_short), now_ms,
                  json.dumps(lines, separators=(",", ":")), json.dumps(skus),
                  status_us(demand.status_at)],
            client=client,
        )  # fmt: skip

    def available(self, store_id: str, sku_id: str) -> int | None:
        p = self.position(store_id, sku_id)
        return None if p is None else p["available"]

    def position(self, store_id: str, sku_id: str) -> dict | None:
        raw = self._client.hgetall(keys.position(self._ns, store_id, sku_id))
        values = {_text(k): int(_text(v)) for k, v in raw.items()}
        if "count" not in values:
            return None
        count, moved, held = values["count"], values.get("moved", 0), values.get("held", 0)
        return {
            "count": count,
            "counted_at": keys.from_ms(values["counted_ms"]),
            "moved": moved,
            "held": held,
            "available": count + moved - held,
        }

    @staticmethod
    def _check(demand: OrderDemand) -> dict[str, int]:
        where = f"order {demand.order_key!r}"
        for name in ("order_key", "channel", "content_hash"):
            value = getattr(demand, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{where}: {name} must be a non-empty string, got {value!r}")
        if "|" in demand.channel:
            raise ValueError(f"{where}: channel {demand.channel!r} contains '|', the counters' separator")
        keys.store_prefix("oh", demand.store_id)
        lines: dict[str, int] = {}
        for sku, units in demand.lines.items():
            keys.position("oh", "s", sku)
            if _whole(f"{where}: units of {sku}", units) <= 0:
                raise ValueError(f"{where}: units of {sku} must be positive, got {units}")
            lines[sku] = units
        if not lines and not demand.cancelled:
            raise ValueError(f"{where}: an order to reserve needs at least one line")
        return lines


def status_us(moment: datetime | None) -> str:
    """A status time in whole microseconds since the epoch, the warehouse's resolution (exact in a Lua number,
    which is a double), or '' for none."""
    if moment is None:
        return ""
    return str(keys.to_ms(moment, "status time") * 1000 + moment.microsecond % 1000)
