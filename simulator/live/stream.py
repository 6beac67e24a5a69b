"""run_live: the channels as a stream. Every ~1 s tick writes one small file per channel that has new
orders for the current local date, stamped with the real time, with the same mix of faults, duplicate
pushes and cross-channel follow-ups as a simulated day (follow-ups and re-pushes arrive in later ticks).
No ground truth is written: live output is for demos and soak runs, not for scoring."""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..clock import DAY_S, LOCAL_OFFSET_S, day_start_epoch, hms, today_local
from ..faults import FAULT_VARIANTS, Fault, make_fault
from ..orders import IdAllocator, Order, Pricer, make_follow_up, sample_skeletons
from ..records import duplicate_of, record_for
from ..shape import (
    BAD_RECORD_RATE,
    CHANNELS,
    DUPLICATE_CHANNELS,
    DUPLICATE_RATE,
    FOLLOW_UP_RATE,
    POS_OPEN_HOURS,
)
from ..world import World, build_world
from ..writers import Record, next_seq, orders_dir, write_records_file, write_reference

TICK_S = 1.0


@dataclass
class LiveStats:
    ticks: int = 0
    orders: int = 0
    records: int = 0
    files: int = 0
    last_files: list[Path] = field(default_factory=list)


class _Day:
    """Everything that resets at local midnight: the world's date, ids, file sequence numbers."""

    def __init__(self, out: Path, date: dt.date, seed: int, rate: float) -> None:
        self.date = date
        self.day0 = day_start_epoch(date)
        self.world: World = build_world(date, seed, min(50_000, max(500, int(rate * DAY_S / 6))))
        write_reference(out, self.world, only_missing=True)
        self.ids = IdAllocator(date)
        # Ids above any a batch run could have used, and above an earlier live run's today.
        self.ids.floor(1_000_000 + (int(time.time()) - self.day0) * 100)
        self.seq = {c: next_seq(orders_dir(out, c, date.isoformat())) for c in CHANNELS}
        self.pricer = Pricer(self.world, random.Random(f"live-orders-{seed}-{date}"))
        self.pricer.platform_rng = random.Random(f"live-platform-promotions-{seed}-{date}")
        self.variant_turn = {c: 0 for c in CHANNELS}


def _fault_for(day: _Day, o: Order, r: random.Random) -> Fault | None:
    if r.random() >= BAD_RECORD_RATE or o.parent is not None or o.cancelled:
        return None
    variants = FAULT_VARIANTS[o.channel]
    variant = variants[day.variant_turn[o.channel] % len(variants)]
    day.variant_turn[o.channel] += 1
    if variant[1] == "address" and o.fulfilment != "delivery":
        variant = ("bad_phone", "phone")
    if variant[0] == "malformed_row" and len(o.lines) > 1:
        o.lines = o.lines[:1]
        day.pricer.price(o)
    return make_fault(variant[0], variant[1], o, r)


def run_live(
    out: Path,
    rate: float,
    seed: int,
    duration_s: float | None = None,
    on_tick: Callable[[LiveStats], None] | None = None,
) -> LiveStats:
    """Write about `rate` orders per second until `duration_s` has elapsed (forever if None) or the
    process gets KeyboardInterrupt. Reference files for today are written first if absent."""
    out = Path(out)
    rng = np.random.default_rng([seed, 99])
    r = random.Random(f"live-{seed}")
    envelope = random.Random(f"live-envelopes-{seed}")
    stats = LiveStats()
    day = _Day(out, today_local(), seed, rate)
    pending: list[tuple[int, int, Order]] = []  # follow-ups not yet due: (created, tiebreak, order)
    repush: list[tuple[int, int, Record, str]] = []  # duplicates due at a later tick
    counter = 0
    started = last = time.time()
    try:
        while duration_s is None or time.time() - started < duration_s:
            time.sleep(max(0.0, last + TICK_S - time.time()))
            now = time.time()
            elapsed, last = now - last, now
            now_s = int(now)
            if today_local() != day.date:
                day, pending, repush = _Day(out, today_local(), seed, rate), [], []
            n = int(rng.poisson(rate * elapsed))
            created = np.maximum(now_s - rng.integers(0, max(1, int(elapsed)), size=n), day.day0)
            fresh = [
                o
                for o in sample_skeletons(day.world, created, rng)
                if not (o.channel == "pos" and (o.created - day.day0) // 3600 not in POS_OPEN_HOURS)
            ]
            due: list[Order] = []
            while pending and pending[0][0] <= now_s:
                due.append(heapq.heappop(pending)[2])
            batch: dict[str, list[Record]] = {c: [] for c in CHANNELS}
            for o in sorted(fresh + due, key=lambda o: o.created):
                counter += 1
                o.idx = counter
                day.pricer.realise(o)
                if o.channel in ("meituan", "eleme"):
                    o.day_seq = day.ids.day_seq(o.channel, o.store.store_id)
                o.order_id = day.ids.order_id(o)
                fault = _fault_for(day, o, r)
                rec = record_for(o, fault, envelope)
                batch[o.channel].append(rec)
                if fault is None and o.channel in DUPLICATE_CHANNELS and r.random() < DUPLICATE_RATE:
                    repush.append((now_s + r.randint(1, 5), counter, rec, o.channel))
                if o.fulfilment == "delivery" and o.parent is None and r.random() < FOLLOW_UP_RATE:
                    follow = make_follow_up(o, -1, r)
                    if follow.created < day.day0 + DAY_S:
                        heapq.heappush(pending, (follow.created, counter, follow))
            still: list[tuple[int, int, Record, str]] = []
            for item in repush:
                if item[0] <= now_s:
                    batch[item[3]].append(duplicate_of(item[2], now_s, item[1]))
                else:
                    still.append(item)
            repush = still
            stamp = hms((now_s + LOCAL_OFFSET_S) % DAY_S).replace(":", "")
            stats.last_files = []
            for channel in CHANNELS:
                if batch[channel]:
                    path = write_records_file(
                        out,
                        channel,
                        day.date.isoformat(),
                        stamp,
                        day.seq[channel],
                        sorted(batch[channel], key=lambda rec: rec.sort_key),
                    )
                    day.seq[channel] += 1
                    stats.last_files.append(path)
                    stats.records += len(batch[channel])
            stats.ticks += 1
            stats.orders += len(fresh) + len(due)
            stats.files += len(stats.last_files)
            if on_tick is not None:
                on_tick(stats)
    except KeyboardInterrupt:
        pass
    return stats
