"""Landing files on disk: names, atomic writes, line numbering, reference tables.

Line numbers are assigned here, at the moment a record's position in its file is known, because ground
truth must name (file, line) exactly as an adapter will see it: 1-based, and for CSV the header is line 1.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import orjson

from .clock import DAY_S, SLOT_S, hms
from .render_csv import HEADERS, csv_line
from .world import World

EXTENSIONS: dict[str, str] = {"pos": "csv", "groupbuy": "csv"}
REFERENCE_TABLES: tuple[str, ...] = ("stores", "products", "riders", "promotions", "stock_snapshots", "stock_movements")
_NAME_RE = re.compile(r"^(?P<channel>[a-z]+)-(?P<hms>\d{6})-(?P<seq>\d{5,})\.(?:jsonl|csv)(?:\.tmp)?$")


def extension(channel: str) -> str:
    return EXTENSIONS.get(channel, "jsonl")


@dataclass(slots=True)
class Record:
    """One landed record: a JSON line, or a ticket/member order spanning consecutive CSV rows."""

    sort_key: tuple[int, int, int]  # (epoch second, 0 = original / 1 = re-push, order idx)
    lines: list[str]
    kind: str  # valid | bad | duplicate | update (a changed re-push carrying a new status)
    order_key: str | None
    error_code: str | None = None
    file: str = ""  # relative to the output root, once written
    line: int = 0
    status: str | None = None  # update records: the unified status the push reports


def atomic_write(path: Path, data: bytes) -> None:
    """Readers ignore `*.tmp`, and os.replace is atomic within a filesystem, so a file is never seen half
    written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def orders_dir(out: Path, channel: str, date_str: str) -> Path:
    return out / "orders" / channel / date_str


def slot_stamp(slot: int) -> str:
    """HHMMSS a slot's file is written at: when the 15 minutes close (the last slot closes at 23:59:59,
    since 24:00:00 would belong to the next day's folder)."""
    return hms(min((slot + 1) * SLOT_S, DAY_S - 1)).replace(":", "")


def write_records_file(out: Path, channel: str, date_str: str, stamp: str, seq: int, records: list[Record]) -> Path:
    """Write records in the given order; stamp each with its file and first line."""
    path = orders_dir(out, channel, date_str) / f"{channel}-{stamp}-{seq:05d}.{extension(channel)}"
    rel = path.relative_to(out).as_posix()
    header = HEADERS.get(channel)
    chunks: list[str] = []
    line_no = 1
    if header is not None:
        chunks.append(csv_line(header))
        line_no = 2
    for rec in records:
        rec.file = rel
        rec.line = line_no
        chunks.extend(rec.lines)
        line_no += len(rec.lines)
    atomic_write(path, ("\n".join(chunks) + "\n").encode("utf-8"))
    return path


def write_channel_day(
    out: Path, channel: str, date_str: str, by_slot: dict[int, list[Record]], first_seq: int = 1
) -> list[Path]:
    """One file per 15-minute slot that has records, seq increasing with time."""
    paths = []
    seq = first_seq
    for slot in sorted(by_slot):
        records = sorted(by_slot[slot], key=lambda rec: rec.sort_key)
        paths.append(write_records_file(out, channel, date_str, slot_stamp(slot), seq, records))
        seq += 1
    return paths


def next_seq(folder: Path) -> int:
    """First free seq in a channel/day folder, so a restarted writer keeps names sorting in write order."""
    best = 0
    if folder.is_dir():
        for entry in os.scandir(folder):
            m = _NAME_RE.match(entry.name)
            if m:
                best = max(best, int(m.group("seq")))
    return best + 1


def clear_simulated(folder: Path) -> None:
    """Remove files this simulator names (and stale .tmp files) from one folder; leaves anything else."""
    if not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if _NAME_RE.match(entry.name) or entry.name.endswith(".tmp"):
            os.unlink(entry.path)


def _jsonl(rows: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def reference_rows(world: World) -> dict[str, list[dict[str, Any]]]:
    return {
        "stores": [
            {
                "store_id": s.store_id,
                "name": s.name,
                "kind": s.kind,
                "city": s.city,
                "district": s.district,
                "address": s.address,
                "lat": s.lat,
                "lng": s.lng,
            }
            for s in world.stores
        ],
        "products": [
            {
                "sku_id": p.sku_id,
                "name": p.name,
                "category": p.category,
                "unit_price": p.price_fen / 100,
                "weight_g": p.weight_g,
                "volume_ml": p.volume_ml,
                "temp_zone": p.temp_zone,
            }
            for p in world.products
        ],
        "riders": [
            {
                "rider_id": r.rider_id,
                "store_id": r.store_id,
                "name": r.name,
                "vehicle": r.vehicle,
                "capacity_kg": r.capacity_kg,
                "cold_box": r.cold_box,
                "shift_start": r.shift_start,
                "shift_end": r.shift_end,
            }
            for r in world.riders
        ],
        "promotions": [
            {
                "promo_id": p.promo_id,
                "channel": p.channel,
                "kind": p.kind,
                "threshold": p.threshold_fen / 100,
                "amount": p.amount_fen / 100,
                "sku_id": p.sku_id,
                "starts_at": p.starts_at,
                "ends_at": p.ends_at,
                "platform_share": p.platform_share,
            }
            for p in world.promotions
        ],
        "stock_snapshots": [
            {"snapshot_at": world.snapshot_at, "store_id": store_id, "sku_id": sku_id, "on_hand": on_hand}
            for store_id, sku_id, on_hand in world.stock
        ],
        "stock_movements": [
            {
                "movement_id": mid,
                "store_id": store_id,
                "sku_id": sku_id,
                "movement_type": kind,
                "quantity": qty,
                "moved_at": at,
            }
            for mid, store_id, sku_id, kind, qty, at in world.movements
        ],
    }


def reference_path(out: Path, table: str, date_str: str) -> Path:
    return out / "reference" / table / date_str / f"{table}.jsonl"


def write_reference(out: Path, world: World, only_missing: bool = False) -> dict[str, Path]:
    date_str = world.date.isoformat()
    paths: dict[str, Path] = {}
    for table, rows in reference_rows(world).items():
        if table == "stock_movements" and not rows:
            continue  # no receipts today (or a pipeline without the feed): no empty file
        path = reference_path(out, table, date_str)
        if not (only_missing and path.exists()):
            atomic_write(path, _jsonl(rows))
        paths[table] = path
    return paths
