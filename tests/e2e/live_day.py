"""A simulated day shaped for the live intake: the reference data in a landing zone of its own, a small WMS count
of every SKU (so channels race for the last units), and the pushes a gateway receives for it (each order's first
push and its cancellation; the status pushes in between change no stock)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from ingestion.adapters import ADAPTERS
from ingestion.records import RawRecord, RecordError

LIVE_CHANNELS = ("app", "miniprogram", "meituan", "eleme")


def prepare(source: Path, landing: Path, pushes: Path, day: dt.date, units: int) -> dict[tuple[str, str], int]:
    """Copy the reference data, count `units` of every SKU at every store at the start of the day; returns the
    count per (store, sku)."""
    for table in ("stores", "products", "riders", "promotions"):
        shutil.copytree(source / "reference" / table, landing / "reference" / table)
    products = [json.loads(line) for f in (source / "reference" / "products").glob("*/*") for line in f.open()]
    stores = [json.loads(line) for f in (source / "reference" / "stores").glob("*/*") for line in f.open()]
    counted_at = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    counts = {(s["store_id"], p["sku_id"]): units for s in stores for p in products}
    folder = landing / "reference" / "stock_snapshots" / day.isoformat()
    folder.mkdir(parents=True)
    with (folder / "stock_snapshots-000000-00001.jsonl").open("w") as out:
        for (store, sku), on_hand in counts.items():
            row = {"snapshot_at": counted_at.isoformat(), "store_id": store, "sku_id": sku, "on_hand": on_hand}
            out.write(json.dumps(row) + "\n")
    for channel in LIVE_CHANNELS:
        _first_and_cancel_pushes(source, pushes, channel)
    return counts


def _first_and_cancel_pushes(source: Path, pushes: Path, channel: str) -> None:
    spec = ADAPTERS[channel]
    seen: set[str] = set()
    cancelled: set[str] = set()
    for path in sorted((source / "orders" / channel).glob("*/*")):
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                order = spec.extract(RawRecord(path.name, 1, line)).order
            except RecordError:
                kept.append(line)  # a broken record is pushed too: the gateway must land it for quarantine
                continue
            order_id = order["channel_order_id"]
            is_cancel = spec.status_map.get(order["status"] or "") == "cancelled"
            if order_id not in seen or (is_cancel and order_id not in cancelled):
                kept.append(line)
                seen.add(order_id)
                if is_cancel:
                    cancelled.add(order_id)
        if kept:
            target = pushes / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(kept) + "\n", encoding="utf-8")
