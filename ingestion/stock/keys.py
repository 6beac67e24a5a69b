"""Redis key names of the live stock, in one place.

Everything about one store carries the store as a hash tag (`oh:{S001}:…`), so that under Redis Cluster a
store's positions, demand, movements and orders share one slot and one script can touch them atomically.
The outbox stream and the per-minute counters are shared by all stores (see docs/live-intake-stock.md for
how they split per store on a cluster).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _check(name: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if any(c in value for c in "{}"):
        raise ValueError(f"{name} {value!r} contains a brace, which would break the Redis hash tag")
    return value


def store_prefix(namespace: str, store_id: str) -> str:
    return f"{namespace}:{{{_check('store_id', store_id)}}}"


def position(namespace: str, store_id: str, sku_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:stock:{_check('sku_id', sku_id)}"


def demand(namespace: str, store_id: str, sku_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:demand:{_check('sku_id', sku_id)}"


def moves(namespace: str, store_id: str, sku_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:moves:{_check('sku_id', sku_id)}"


def move_ids(namespace: str, store_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:move_ids"


def counted_skus(namespace: str, store_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:counted"


def orders(namespace: str, store_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:orders"


def order_prefix(namespace: str, store_id: str) -> str:
    return f"{store_prefix(namespace, store_id)}:order:"


def order(namespace: str, store_id: str, order_key: str) -> str:
    return order_prefix(namespace, store_id) + order_key


def changes(namespace: str) -> str:
    return f"{namespace}:stock:changes"


def published(namespace: str, store_id: str) -> str:
    """What each channel was last told per SKU (hash "channel|sku" → units)."""
    return f"{store_prefix(namespace, store_id)}:published"


def counters(namespace: str, minute: int) -> str:
    return f"{namespace}:counters:{minute}"


def to_ms(moment: datetime, name: str = "time") -> int:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    # Exact integer arithmetic: float timestamps can land a millisecond early, before a count's instant.
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def minute_of(ms: int) -> int:
    return ms // 60_000
