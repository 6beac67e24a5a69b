"""Live counters for the big screen: per minute, per channel, per event (orders, refusals, rejections…).

One Redis hash per minute (`oh:counters:<epoch minute>`, field "channel|what"), kept two days. The reserve
script increments the stock events itself (orders, units_reserved, refused_short, accepted_short, released)
in the same atomic step; the gateway counts its own events (rejected_signature, rate_limited, duplicate,
expired…) through `incr`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import redis

from ingestion.stock import keys

TTL_SECONDS = 2 * 24 * 3600
SCHEMA = {"minute": pl.Datetime("us", "UTC"), "channel": pl.String, "what": pl.String, "count": pl.Int64}


class LiveCounters:
    def __init__(self, client: redis.Redis, namespace: str = "oh") -> None:
        self._client = client
        self._ns = namespace

    def incr(self, channel: str, what: str, n: int = 1, at: datetime | None = None) -> int:
        for name, value in (("channel", channel), ("what", what)):
            if not isinstance(value, str) or not value or "|" in value:
                raise ValueError(f"counter {name} must be a non-empty string without '|', got {value!r}")
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValueError(f"counter increment must be a whole number, got {n!r}")
        key = keys.counters(self._ns, keys.minute_of(keys.to_ms(at or datetime.now(UTC), "at")))
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(key, f"{channel}|{what}", n)
        pipe.expire(key, TTL_SECONDS)
        return int(pipe.execute()[0])

    def read(self, since: datetime, until: datetime) -> pl.DataFrame:
        """Counts of the minutes from `since` up to and including the minute of `until`."""
        first = keys.minute_of(keys.to_ms(since, "since"))
        last = keys.minute_of(keys.to_ms(until, "until"))
        if last < first:
            raise ValueError(f"until ({until}) is before since ({since})")
        if last - first > TTL_SECONDS // 60:
            raise ValueError(f"{since} to {until} is longer than the {TTL_SECONDS // 3600} hours counters are kept")
        minutes = list(range(first, last + 1))
        pipe = self._client.pipeline(transaction=False)
        for minute in minutes:
            pipe.hgetall(keys.counters(self._ns, minute))
        rows = []
        for minute, fields in zip(minutes, pipe.execute(), strict=True):
            for field, count in fields.items():
                channel, _, what = _text(field).partition("|")
                rows.append((keys.from_ms(minute * 60_000), channel, what, int(_text(count))))
        return pl.DataFrame(rows, schema=SCHEMA, orient="row").sort("minute", "channel", "what")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
