"""An independent reader of the simulator's landing files, written from docs/landing-formats.md alone, so the
simulator's tests check what is on disk rather than the simulator's own objects: the records of a channel's
files, the facts an adapter would take from each, and the defects the formats doc says a record has."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
SH = dt.timezone(dt.timedelta(hours=8))
JSON_CHANNELS = ("app", "miniprogram", "meituan", "eleme")
CSV_CHANNELS = ("pos", "groupbuy")
CHANNELS = JSON_CHANNELS + CSV_CHANNELS
# A landing file of orders: <channel>-<HHMMSS>-<seq>.<ext>.
NAME_RE = re.compile(r"^(?P<ch>[a-z]+)-(?P<hms>\d{6})-(?P<seq>\d{5})\.(?P<ext>jsonl|csv)$")

PHONE_RES = {
    "mobile": re.compile(r"^1[3-9]\d{9}$"),
    "masked": re.compile(r"^1\d{2}\*{4}\d{4}$"),
    # Meituan's documented mask: 3 digits, 5 stars, the last 3 (../shared/channel-formats.md).
    "masked_meituan": re.compile(r"^1\d{2}\*{5}\d{3}$"),
    "privacy_meituan": re.compile(r"^1\d{10}_\d{4}$"),
    "privacy_eleme": re.compile(r"^1\d{10},\d{4}$"),
    "landline": re.compile(r"^0\d{2,3}-\d{7,8}$"),
}


def doc_header(first_column: str) -> list[str]:
    """The CSV header as written in docs/landing-formats.md (a back-quoted line starting with the column)."""
    text = (ROOT / "docs" / "landing-formats.md").read_text(encoding="utf-8")
    m = re.search(r"^`(" + first_column + r",[^`]+)`$", text, re.M)
    assert m, f"no header starting {first_column} in the formats doc"
    return m.group(1).split(",")


@dataclass
class Landed:
    channel: str
    file: str  # relative to the output root
    line: int
    text: str  # the record's raw text (all its rows for CSV)
    rows: list[list[str]] = field(default_factory=list)  # CSV only
    obj: Any = None  # JSON only: parsed line (None if unparseable)
    inner: Any = None  # meituan detail list / eleme OOrder (None if unparseable)


def read_channel(out: Path, channel: str, date_s: str) -> list[Landed]:
    folder = out / "orders" / channel / date_s
    records: list[Landed] = []
    for path in sorted(folder.iterdir()):
        rel = path.relative_to(out).as_posix()
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[-1] == "", f"{rel} does not end with a newline"
        lines = lines[:-1]
        if channel in CSV_CHANNELS:
            start = 2
            current: Landed | None = None
            for i, line in enumerate(lines[1:], start=start):
                row = line.split(",")
                if current is None or row[0] != current.rows[0][0]:
                    current = Landed(channel, rel, i, line, [row])
                    records.append(current)
                else:
                    current.rows.append(row)
                    current.text += "\n" + line
            continue
        for i, line in enumerate(lines, start=1):
            rec = Landed(channel, rel, i, line)
            try:
                rec.obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                records.append(rec)
                continue
            try:
                if channel == "meituan":
                    rec.inner = orjson.loads(rec.obj["detail"])
                elif channel == "eleme":
                    rec.inner = orjson.loads(rec.obj["message"])
            except orjson.JSONDecodeError:
                pass
            records.append(rec)
    return records


def _epoch_local(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=SH).timestamp())


@dataclass
class Facts:
    """What an adapter would extract from one record, in neutral terms."""

    key: str
    store: str
    created: int
    fulfilment: str
    address: str
    cancelled: bool
    phone: str
    lines: list[tuple[str, int]]  # (sku, qty as written)


def facts(rec: Landed) -> Facts:
    ch = rec.channel
    if ch in ("app", "miniprogram"):
        o = rec.obj
        created = o["created_at"] if ch == "miniprogram" else _epoch_local(o["created_at"][:19])
        return Facts(
            f"{ch}:{o['order_no']}",
            o["store_code"],
            created,
            o["fulfilment"],
            o["receiver"]["address"],
            o["status"] == "cancelled",
            o["receiver"]["phone"],
            [(i["sku"], i["qty"]) for i in o["items"]],
        )
    if ch == "meituan":
        o = rec.obj
        return Facts(
            f"meituan:{o['order_id']}",
            o["app_poi_code"],
            int(o["ctime"]),
            "self_pickup" if o["pick_type"] == "1" else "delivery",
            o["recipient_address"].split("@#")[0],
            o["status"] == "9",
            o["recipient_phone"],
            [(d["app_food_code"], d["quantity"]) for d in rec.inner],
        )
    if ch == "eleme":
        m = rec.inner
        items = [(i["extendCode"], i["quantity"]) for g in m["groups"] for i in g["items"]]
        return Facts(
            f"eleme:{m['id']}",
            m["openId"],
            _epoch_local(m["createdAt"]),
            "self_pickup" if "到店自取" in m["description"] else "delivery",
            m["address"],
            m["status"] == "invalid",
            m["phoneList"][0],
            items,
        )
    first = rec.rows[0]
    qty_col = 8 if ch == "pos" else 10
    sku_col = 6 if ch == "pos" else 8
    lines = [(r[sku_col], int(r[qty_col])) for r in rec.rows]
    if ch == "pos":
        return Facts(
            f"pos:{first[0]}", first[1], _epoch_local(first[4]), "in_store", "", first[14] == "作废", first[5], lines
        )
    return Facts(
        f"groupbuy:{first[0]}",
        first[4],
        _epoch_local(first[14]),
        "delivery" if first[16] == "送货上门" else "self_pickup",
        first[7],
        first[17] == "已取消",
        first[6],
        lines,
    )


def defects(rec: Landed, skus: set[str]) -> set[str]:
    """Error codes that apply to a landed record, judged from the formats doc alone."""
    ch = rec.channel
    if ch in CSV_CHANNELS:
        width = len(doc_header("小票号" if ch == "pos" else "订单号"))
        if any(len(r) != width for r in rec.rows):
            return {"malformed_row"}
    elif rec.obj is None or (ch in ("meituan", "eleme") and rec.inner is None):
        return {"broken_json"}
    f = facts(rec)
    found: set[str] = set()
    if not f.key.split(":", 1)[1] or not f.store or not f.lines or (f.fulfilment == "delivery" and not f.address):
        found.add("missing_field")
    phone_ok = (ch == "pos" and f.phone == "") or any(p.match(f.phone) for p in PHONE_RES.values())
    if not phone_ok:
        found.add("bad_phone")
    if any(sku not in skus for sku, _ in f.lines):
        found.add("unknown_sku")
    if any(int(q) <= 0 for _, q in f.lines):
        found.add("bad_quantity")
    return found
