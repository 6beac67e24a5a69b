"""The live intake's counters, straight from Redis: what the gateway took in the last minutes, seconds behind
the pushes, before any micro-batch has landed them.

Read by the layout the gateway writes (docs/live-intake-stock.md, "Live counters"): one hash per minute,
`<namespace>:counters:<minutes since the epoch>`, field `<channel>|<what>`, value a count. Set
`ORDERHUB_REDIS_URL` to show them; without it (or with Redis away) the page simply has no live strip.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import redis

REDIS_ENV = "ORDERHUB_REDIS_URL"
NAMESPACE = "oh"
WINDOW_MINUTES = 15
# What the strip shows, in this order: events the gateway counts per channel.
SHOWN = ("orders", "units_reserved", "refused_short", "accepted_short", "released", "rate_limited")


@dataclass(frozen=True)
class IntakeCounters:
    last_minute: dict[str, int]  # what → count in the current minute, all channels
    window: dict[str, int]  # what → count over the window
    by_channel: dict[str, dict[str, int]]  # channel → what → count over the window
    minutes: int = WINDOW_MINUTES


def redis_url() -> str | None:
    return os.environ.get(REDIS_ENV, "").strip() or None


def fetch_intake_counters(url: str | None = None, now_s: float | None = None) -> IntakeCounters | None:
    """None when no Redis is configured or it does not answer: the page then shows the snapshot only."""
    url = url or redis_url()
    if url is None:
        return None
    now_minute = int((time.time() if now_s is None else now_s) // 60)
    minutes = range(now_minute - WINDOW_MINUTES + 1, now_minute + 1)
    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)
        pipe = client.pipeline(transaction=False)
        for minute in minutes:
            pipe.hgetall(f"{NAMESPACE}:counters:{minute}")
        hashes = pipe.execute()
    except (redis.ConnectionError, redis.TimeoutError):
        return None
    last_minute: dict[str, int] = {}
    window: dict[str, int] = {}
    by_channel: dict[str, dict[str, int]] = {}
    for minute, counts in zip(minutes, hashes, strict=True):
        for field, value in counts.items():
            channel, _, what = field.partition("|")
            n = int(value)
            window[what] = window.get(what, 0) + n
            by_channel.setdefault(channel, {})[what] = by_channel.get(channel, {}).get(what, 0) + n
            if minute == now_minute:
                last_minute[what] = last_minute.get(what, 0) + n
    return IntakeCounters(last_minute, window, by_channel)
