"""Ground truth of a simulated day: what ingestion and merging should conclude from the landing files.

Merge groups are derived from the final orders by the business rule itself (with the TRUE customer and
address identities), not from how follow-ups were generated, so coincidental repeat orders are covered
and cancelled or broken orders drop out exactly as the rule says.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable

import orjson

from .orders import Order
from .shape import CHANNELS
from .writers import Record, atomic_write

TRUTH_FILE = "ground_truth.json"


def merge_groups(orders: Iterable[Order], window_minutes: int) -> list[list[str]]:
    """Same true customer, address and store; delivery; not cancelled; created within `window_minutes`
    (inclusive) of the group's FIRST order. A later order starts a new group. Only groups of >= 2."""
    window = window_minutes * 60
    buckets: dict[tuple[str, str, str], list[Order]] = {}
    for o in orders:
        if o.fulfilment == "delivery" and not o.cancelled:
            buckets.setdefault((o.customer.customer_id, o.address.address_id, o.store.store_id), []).append(o)
    groups: list[tuple[int, list[str]]] = []
    for bucket in buckets.values():
        bucket.sort(key=lambda o: (o.created, o.key))
        start = bucket[0].created
        current = [bucket[0]]
        for o in bucket[1:]:
            if o.created - start <= window:
                current.append(o)
                continue
            if len(current) > 1:
                groups.append((current[0].created, [x.key for x in current]))
            start, current = o.created, [o]
        if len(current) > 1:
            groups.append((current[0].created, [x.key for x in current]))
    groups.sort()
    return [keys for _, keys in groups]


def build_truth(
    date: dt.date,
    seed: int,
    window_minutes: int,
    valid_orders: list[Order],
    records: dict[str, list[Record]],
    problems: dict[str, Any] | None = None,
) -> dict[str, Any]:
    by_channel: dict[str, dict[str, int]] = {}
    bad: list[dict[str, Any]] = []
    dups: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for channel in CHANNELS:
        recs = records.get(channel, [])
        counts = {"landed": len(recs), "loaded": 0, "quarantined": 0, "duplicate": 0}
        for rec in recs:
            if rec.kind == "valid":
                counts["loaded"] += 1
            elif rec.kind == "update":
                # A changed re-push (new status) is loaded: its status event is appended.
                counts["loaded"] += 1
                updates.append(
                    {
                        "channel": channel,
                        "file": rec.file,
                        "line": rec.line,
                        "order_key": rec.order_key,
                        "status": rec.status,
                    }
                )
            elif rec.kind == "bad":
                counts["quarantined"] += 1
                bad.append(
                    {
                        "channel": channel,
                        "file": rec.file,
                        "line": rec.line,
                        "order_key": rec.order_key,
                        "error_code": rec.error_code,
                    }
                )
            else:
                counts["duplicate"] += 1
                dups.append({"channel": channel, "file": rec.file, "line": rec.line, "order_key": rec.order_key})
        by_channel[channel] = counts
    bad.sort(key=lambda b: (b["file"], b["line"]))
    dups.sort(key=lambda d: (d["file"], d["line"]))
    updates.sort(key=lambda u: (u["file"], u["line"]))
    ordered = sorted(valid_orders, key=lambda o: (o.created, o.key))
    return {
        "date": date.isoformat(),
        "seed": seed,
        "merge_window_minutes": window_minutes,
        "orders": len(valid_orders),
        "records_by_channel": by_channel,
        "bad_records": bad,
        "duplicates": dups,
        "cancelled": [o.key for o in ordered if o.cancelled],
        "merge_groups": merge_groups(valid_orders, window_minutes),
        "order_customer": {o.key: o.customer.customer_id for o in ordered},
        # The true door of each order: families and offices share one; the text on each app may differ.
        "order_address": {o.key: o.address.address_id for o in ordered},
        # Status pushes after an order's first (loaded, not duplicates): "orders" counts distinct orders, so
        # sum(records_by_channel.loaded) == orders + len(status_updates).
        "status_updates": updates,
        **({"problems": problems} if problems is not None else {}),
    }


def truth_path(out: Path, date: dt.date | str) -> Path:
    day = date if isinstance(date, str) else date.isoformat()
    return Path(out) / "_truth" / day / TRUTH_FILE


def write_truth(out: Path, truth: dict[str, Any]) -> Path:
    path = truth_path(out, truth["date"])
    atomic_write(path, orjson.dumps(truth, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def load_truth(out_dir: Path | str, date: dt.date | str) -> dict[str, Any]:
    """The ground truth simulate_day wrote for `date` under `out_dir`."""
    return orjson.loads(truth_path(Path(out_dir), date).read_bytes())


def cross_day_oversells(truths: list[dict[str, Any]]) -> list[str]:
    """Oversells that span midnight in a multi-day load: an order placed before its day's morning count
    reserves from the previous day's count (what was left at midnight, plus cancellations released since),
    so it oversells when that is not enough. Each day's own truth cannot see this (it does not know the
    day before); cancelled orders are left out (their units went back, nothing to act on)."""
    by_date = {t["date"]: t for t in truths if "stock_carry" in t.get("problems", {})}
    out: list[str] = []
    for day, truth in sorted(by_date.items()):
        before = by_date.get((dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat())
        if before is None:
            continue  # no earlier count in this load: such orders have no baseline
        carry = before["problems"]["stock_carry"]
        balance = {(s, k): q for s, k, q in carry["closing"]}
        # (time, 0 = release before a reserve at the same second, order, store, sku, quantity)
        events = [(at, 0, "", s, k, q) for at, s, k, q in carry["late_releases"]]
        for o in truth["problems"]["stock_carry"]["pre_count"]:
            for s, k, q in o["lines"]:
                events.append((o["created"], 1, o["order_key"], s, k, -q))
                if o["cancelled_at"] is not None:
                    events.append((o["cancelled_at"], 0, o["order_key"], s, k, q))
        cancelled = {o["order_key"] for o in truth["problems"]["stock_carry"]["pre_count"] if o["cancelled_at"]}
        short: set[str] = set()
        for _, _, key, s, k, q in sorted(events):
            if (s, k) not in balance:
                continue  # never counted: position unknown
            if q < 0 and balance[(s, k)] < -q:
                short.add(key)
            balance[(s, k)] += q
        out.extend(sorted(short - cancelled))
    return out
