"""The synthetic-data simulator: formats per docs/landing-formats.md, ground-truth accounting, bad-record
kinds, merge-group rule, determinism and address parseability of one simulated day.

The checks read the landing files back with a small independent reader written from the formats doc
(landing_reader.py), so they test what is on disk, not the simulator's own objects. Live mode and runs over
consecutive days are in test_simulator_days.py.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from landing_reader import (
    CHANNELS,
    CSV_CHANNELS,
    JSON_CHANNELS,
    NAME_RE,
    SH,
    Facts,
    Landed,
    defects,
    doc_header,
    facts,
    read_channel,
)

from simulator import load_truth, simulate_day
from simulator.world import build_world

DATE = dt.date(2026, 11, 26)
DATE_S = DATE.isoformat()
SEED = 20261126
DAY_ORDERS = 5000
ERROR_CODES = {"missing_field", "bad_phone", "unknown_sku", "bad_quantity", "broken_json", "malformed_row"}

# --------------------------------------------------------------------------------------------------------
# Fixtures: one 5,000-order day shared by most tests.


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    summary = simulate_day(DATE, DAY_ORDERS, SEED, out)
    assert summary.orders == DAY_ORDERS
    return out


@pytest.fixture(scope="module")
def truth(day: Path) -> dict[str, Any]:
    return load_truth(day, DATE)


@pytest.fixture(scope="module")
def landed(day: Path) -> dict[str, list[Landed]]:
    return {ch: read_channel(day, ch, DATE_S) for ch in CHANNELS}


@pytest.fixture(scope="module")
def skus(day: Path) -> set[str]:
    path = day / "reference" / "products" / DATE_S / "products.jsonl"
    return {orjson.loads(line)["sku_id"] for line in path.read_text(encoding="utf-8").splitlines()}


@pytest.fixture(scope="module")
def valid_facts(landed: dict[str, list[Landed]], truth: dict[str, Any]) -> dict[str, Facts]:
    skip = {(b["file"], b["line"]) for b in truth["bad_records"]} | {
        (d["file"], d["line"]) for d in truth["duplicates"]
    }
    # Status pushes re-send an order already seen (with a new status): not a second order.
    skip |= {(u["file"], u["line"]) for u in truth["status_updates"]}
    out: dict[str, Facts] = {}
    for recs in landed.values():
        for rec in recs:
            if (rec.file, rec.line) not in skip:
                f = facts(rec)
                assert f.key not in out, f"{f.key} loaded twice"
                out[f.key] = f
    return out


# --------------------------------------------------------------------------------------------------------


def test_same_seed_writes_identical_bytes_and_window_only_changes_truth(tmp_path: Path) -> None:
    """Determinism: two runs with one seed write byte-identical trees; another seed writes different
    orders; a different merge window changes only the ground truth's merge groups."""

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    a, b, c, w = (tmp_path / n for n in "abcw")
    simulate_day(DATE, 1500, 7, a)
    simulate_day(DATE, 1500, 7, b)
    simulate_day(DATE, 1500, 8, c)
    simulate_day(DATE, 1500, 7, w, merge_window_minutes=10)
    ta, tb, tc, tw = tree(a), tree(b), tree(c), tree(w)
    assert ta == tb
    assert not any(name.endswith(".tmp") for name in ta)
    orders_a = {k: v for k, v in ta.items() if k.startswith("orders/")}
    assert orders_a != {k: v for k, v in tc.items() if k.startswith("orders/")}
    assert orders_a == {k: v for k, v in tw.items() if k.startswith("orders/")}
    truth_a, truth_w = load_truth(a, DATE), load_truth(w, DATE)
    assert truth_w["merge_window_minutes"] == 10
    assert truth_a["merge_groups"] != truth_w["merge_groups"]
    assert sum(map(len, truth_w["merge_groups"])) < sum(map(len, truth_a["merge_groups"]))


def test_rerun_replaces_the_days_files(tmp_path: Path) -> None:
    """A second simulate_day into the same folder leaves only its own files, so files and truth agree."""
    simulate_day(DATE, 3000, 1, tmp_path)
    simulate_day(DATE, 300, 1, tmp_path)
    truth = load_truth(tmp_path, DATE)
    for ch in CHANNELS:
        assert len(read_channel(tmp_path, ch, DATE_S)) == truth["records_by_channel"][ch]["landed"]


def test_file_layout_names_and_reference_tables(day: Path) -> None:
    """Files sit in orders/<channel>/<date>/ named <channel>-<HHMMSS>-<seq:05d>.<ext>, seq increasing
    with the time stamp, at most one per 15-minute slot; reference tables have the documented keys."""
    for ch in CHANNELS:
        names = sorted(p.name for p in (day / "orders" / ch / DATE_S).iterdir())
        assert names, ch
        parsed = [NAME_RE.match(n) for n in names]
        assert all(parsed), names
        assert {m["ch"] for m in parsed} == {ch}
        assert {m["ext"] for m in parsed} == {"csv" if ch in CSV_CHANNELS else "jsonl"}
        seqs = [int(m["seq"]) for m in parsed]
        assert seqs == list(range(1, len(names) + 1))
        stamps = [m["hms"] for m in parsed]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    expected = {
        "stores": {"store_id", "name", "kind", "city", "district", "address", "lat", "lng"},
        "products": {"sku_id", "name", "category", "unit_price", "weight_g", "volume_ml", "temp_zone"},
        "riders": {"rider_id", "store_id", "name", "vehicle", "capacity_kg", "cold_box", "shift_start", "shift_end"},
        "promotions": {
            "promo_id",
            "channel",
            "kind",
            "threshold",
            "amount",
            "sku_id",
            "starts_at",
            "ends_at",
            "platform_share",
        },
        "stock_snapshots": {"snapshot_at", "store_id", "sku_id", "on_hand"},
    }
    tables = {}
    for table, keys in expected.items():
        rows = [
            orjson.loads(x) for x in (day / "reference" / table / DATE_S / f"{table}.jsonl").read_bytes().splitlines()
        ]
        assert rows and all(set(r) == keys for r in rows), table
        tables[table] = rows
    stores = tables["stores"]
    assert 6 <= len(stores) <= 10 and {s["kind"] for s in stores} == {"dark_store", "shop"}
    assert all(30.9 < s["lat"] < 31.5 and 121.1 < s["lng"] < 121.9 for s in stores)
    products = tables["products"]
    assert len(products) == 300 and products[0]["sku_id"] == "SKU0001"
    zones = Counter(p["temp_zone"] for p in products)
    assert zones == {"ambient": 180, "chilled": 90, "frozen": 30}
    assert len(tables["stock_snapshots"]) == len(stores) * len(products)
    assert {s["snapshot_at"] for s in tables["stock_snapshots"]} == {f"{DATE_S}T06:00:00+08:00"}
    assert all(re.fullmatch(r"\d\d:\d\d", r["shift_start"]) for r in tables["riders"])


def test_json_channels_parse_in_their_formats(landed: dict[str, list[Landed]], truth: dict[str, Any]) -> None:
    """Every JSON line parses except injected broken_json ones; meituan values are all strings with JSON
    text in detail/extras/poi_receive_detail; eleme's message is JSON text; miniprogram uses fen and epoch
    seconds; app uses yuan and ISO times with +08:00."""
    broken = {(b["file"], b["line"]) for b in truth["bad_records"] if b["error_code"] == "broken_json"}
    outer_ok_inner_broken = Counter()
    for ch in JSON_CHANNELS:
        for rec in landed[ch]:
            if rec.obj is None:
                assert (rec.file, rec.line) in broken, (rec.file, rec.line)
                continue
            o = rec.obj
            if ch == "meituan":
                assert all(isinstance(v, str) for v in o.values())
                assert isinstance(orjson.loads(o["extras"]), list)
                assert isinstance(orjson.loads(o["poi_receive_detail"]), dict)
                assert re.fullmatch(r"\d{10}", o["ctime"]) and re.fullmatch(r"\d+", o["latitude"])
                assert "@#" in o["recipient_address"] or not o["recipient_address"]
            elif ch == "eleme":
                assert isinstance(o["message"], str) and isinstance(o["timestamp"], int)
                assert set(o) == {"requestId", "type", "message", "shopId", "userId", "timestamp", "orderId"}
            elif ch == "app":
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", o["created_at"])
                assert all(isinstance(v, (int, float)) for v in o["amounts"].values())
                assert "member_id" in o and "openid" not in o
            else:
                assert isinstance(o["created_at"], int) and o["payment_method"] == "wechat"
                assert all(isinstance(v, int) for v in o["amounts"].values())
                assert all(isinstance(i["unit_price"], int) for i in o["items"])
                assert "openid" in o and "member_id" not in o
            if ch in ("meituan", "eleme") and rec.inner is None:
                assert (rec.file, rec.line) in broken
                outer_ok_inner_broken[ch] += 1
    assert outer_ok_inner_broken["meituan"] >= 1 and outer_ok_inner_broken["eleme"] >= 1


def test_csv_headers_exactly_as_documented(day: Path) -> None:
    """POS and group-buy files start with the exact header lines of docs/landing-formats.md (no BOM)."""
    for ch, first in (("pos", "小票号"), ("groupbuy", "订单号")):
        for path in (day / "orders" / ch / DATE_S).iterdir():
            raw = path.read_bytes()
            assert not raw.startswith(b"\xef\xbb\xbf")
            assert raw.decode("utf-8").split("\n", 1)[0].split(",") == doc_header(first)


def test_truth_accounting_matches_the_files(landed: dict[str, list[Landed]], truth: dict[str, Any], day: Path) -> None:
    """Per channel landed = loaded + quarantined + duplicate, landed equals the records in the files, the
    bad/duplicate lists point at real record starts, and duplicates repeat an earlier record verbatim."""
    by_pos = {(r.file, r.line): r for recs in landed.values() for r in recs}
    for ch in CHANNELS:
        counts = truth["records_by_channel"][ch]
        assert counts["landed"] == counts["loaded"] + counts["quarantined"] + counts["duplicate"]
        assert counts["landed"] == len(landed[ch])
        assert counts["quarantined"] == sum(b["channel"] == ch for b in truth["bad_records"])
        assert counts["duplicate"] == sum(d["channel"] == ch for d in truth["duplicates"])
    # A status push is a changed re-push: loaded (its status event is appended) but not a new order.
    loaded = sum(c["loaded"] for c in truth["records_by_channel"].values())
    assert loaded - len(truth["status_updates"]) == truth["orders"] == DAY_ORDERS
    assert len(truth["order_customer"]) == DAY_ORDERS
    for item in truth["bad_records"] + truth["duplicates"]:
        assert (item["file"], item["line"]) in by_pos
        assert (day / item["file"]).is_file()
    later_file = 0
    for d in truth["duplicates"]:
        assert d["channel"] in ("app", "meituan", "eleme")
        recs = landed[d["channel"]]  # in write order: files sorted by name, then lines
        at = next(i for i, r in enumerate(recs) if (r.file, r.line) == (d["file"], d["line"]))
        copies = [i for i, r in enumerate(recs) if r.text == recs[at].text]
        assert len(copies) == 2 and copies[1] == at, d  # exactly one earlier original
        assert facts(recs[at]).key == d["order_key"]
        later_file += recs[copies[0]].file != d["file"]
    assert later_file > len(truth["duplicates"]) / 2  # usually re-pushed in a later file


def test_every_bad_record_has_exactly_its_defect(
    landed: dict[str, list[Landed]], truth: dict[str, Any], skus: set[str]
) -> None:
    """Each bad record shows exactly its recorded error code; every good or duplicate record shows none;
    all six kinds appear on a 5,000-order day, and bad records carry an order_key unless unreadable."""
    bad = {(b["file"], b["line"]): b for b in truth["bad_records"]}
    assert {b["error_code"] for b in truth["bad_records"]} == ERROR_CODES
    for ch in CHANNELS:
        for rec in landed[ch]:
            found = defects(rec, skus)
            expected = bad.get((rec.file, rec.line))
            if expected is None:
                assert not found, (rec.file, rec.line, found)
            else:
                assert found == {expected["error_code"]}, (rec.file, rec.line, found, expected)
    for b in truth["bad_records"]:
        if b["error_code"] == "broken_json":
            assert b["order_key"] is None
        if b["error_code"] == "malformed_row":
            assert b["channel"] in CSV_CHANNELS and b["order_key"].startswith(b["channel"] + ":")
    named = [b for b in truth["bad_records"] if b["order_key"]]
    assert len(named) > 0.7 * len(truth["bad_records"])
    assert not set(b["order_key"] for b in named) & set(truth["order_customer"])
    share = len(truth["bad_records"]) / (
        sum(c["landed"] for c in truth["records_by_channel"].values()) - len(truth["status_updates"])
    )  # of the orders' first pushes
    assert 0.015 < share < 0.025


def test_money_adds_up(valid_facts: dict[str, Facts], landed: dict[str, list[Landed]], truth: dict[str, Any]) -> None:
    """paid = goods - merchant_discount - platform_discount + fees, in each channel's own fields/units."""
    good = {(b["file"], b["line"]) for b in truth["bad_records"]}

    def fen(x: float | str) -> int:
        return round(float(x) * 100)

    for ch in CHANNELS:
        for rec in landed[ch]:
            if (rec.file, rec.line) in good:
                continue
            if ch in ("app", "miniprogram"):
                conv = (lambda v: v) if ch == "miniprogram" else fen
                a = {k: conv(v) for k, v in rec.obj["amounts"].items()}
                items = rec.obj["items"]
                assert a["goods"] == sum(conv(i["original_price"]) * i["qty"] for i in items)
                assert (
                    a["paid"]
                    == a["goods"]
                    - a["merchant_discount"]
                    - a["platform_discount"]
                    + a["delivery_fee"]
                    + a["packaging_fee"]
                )
                assert sum(conv(i["discount"]) for i in items) == a["merchant_discount"] + a["platform_discount"]
            elif ch == "meituan":
                o, extras = rec.obj, orjson.loads(rec.obj["extras"])
                goods = sum(fen(d["original_price"]) * d["quantity"] for d in rec.inner)
                item_disc = sum((fen(d["original_price"]) - fen(d["price"])) * d["quantity"] for d in rec.inner)
                merchant = sum(fen(e["poi_charge"]) for e in extras) + item_disc
                platform = sum(fen(e["mt_charge"]) for e in extras)
                # original_price is the whole bill before discounts: goods + packaging + delivery (Meituan docs).
                assert fen(o["original_price"]) == goods + int(o["package_bag_money"]) + fen(o["shipping_fee"])
                assert fen(o["total"]) == goods - merchant - platform + fen(o["shipping_fee"]) + int(
                    o["package_bag_money"]
                )
            elif ch == "eleme":
                m = rec.inner
                items = [i for g in m["groups"] for i in g["items"]]
                # originalPrice includes the delivery fee and packaging (every real Eleme sample).
                goods = sum(fen(i["total"]) for i in items)
                assert fen(m["originalPrice"]) == goods + fen(m["deliverFee"]) + fen(m["packageFee"])
                # A platform red packet (hongbao, negative) comes off the bill on top of the activities.
                assert fen(m["totalPrice"]) == (
                    fen(m["originalPrice"]) + fen(m["shopPart"]) + fen(m["elemePart"]) + fen(m["hongbao"])
                )
                assert fen(m["activityTotal"]) == fen(m["shopPart"]) + fen(m["elemePart"])
            elif ch == "pos":
                for r in rec.rows:
                    assert fen(r[12]) == fen(r[10]) * int(r[8]) - fen(r[11]) == fen(r[9]) * int(r[8])
            else:
                for r in rec.rows:
                    assert fen(r[13]) == fen(r[11]) * int(r[10])


def test_day_has_a_realistic_shape(
    valid_facts: dict[str, Facts], truth: dict[str, Any], landed: dict[str, list[Landed]]
) -> None:
    """Channel mix, fulfilment per channel, ~3% cancellations, daytime peaks, 1-8 lines of qty 1-4, and
    masked/privacy phones on Meituan and Eleme."""
    n = len(valid_facts)
    mix = Counter(k.split(":")[0] for k in valid_facts)
    target = {"app": 0.20, "miniprogram": 0.15, "meituan": 0.25, "eleme": 0.20, "pos": 0.12, "groupbuy": 0.08}
    for ch, share in target.items():
        assert abs(mix[ch] / n - share) < 0.035, (ch, mix[ch] / n)
    by_ch: dict[str, Counter[str]] = defaultdict(Counter)
    for k, f in valid_facts.items():
        by_ch[k.split(":")[0]][f.fulfilment] += 1
    assert set(by_ch["pos"]) == {"in_store"}
    for ch in ("app", "miniprogram", "meituan", "eleme"):
        assert 0.8 < by_ch[ch]["delivery"] / sum(by_ch[ch].values()) < 0.99 and by_ch[ch]["self_pickup"] > 0
    assert 0.55 < by_ch["groupbuy"]["self_pickup"] / sum(by_ch["groupbuy"].values()) < 0.95
    cancelled = [f for f in valid_facts.values() if f.cancelled]
    assert 0.02 < len(cancelled) / n < 0.04
    assert sorted(truth["cancelled"]) == sorted(f.key for f in cancelled)
    assert {k.split(":")[0] for k in truth["cancelled"]} == set(CHANNELS)
    hours = Counter(dt.datetime.fromtimestamp(f.created, SH).hour for f in valid_facts.values())
    assert sum(hours[h] for h in range(7, 22)) / n > 0.9
    assert hours[8] > hours[10] and hours[12] > hours[15] and hours[18] > hours[15]
    assert {dt.datetime.fromtimestamp(f.created, SH).date() for f in valid_facts.values()} == {DATE}
    assert all(1 <= len(f.lines) <= 8 and all(1 <= q <= 4 for _, q in f.lines) for f in valid_facts.values())
    for ch, sep in (("meituan", "_"), ("eleme", ",")):
        phones = [f.phone for k, f in valid_facts.items() if k.startswith(ch + ":")]
        kinds = Counter("masked" if "****" in p else "privacy" if sep in p else "mobile" for p in phones)
        assert all(kinds[x] > 0.15 * len(phones) for x in ("masked", "privacy", "mobile")), kinds


def test_merge_groups_obey_the_rule(valid_facts: dict[str, Facts], truth: dict[str, Any]) -> None:
    """Every truth group: >= 2 orders of one true customer, one address, one store, all delivery and not
    cancelled, all within the window of the group's first order. Recomputing the rule from the files gives
    exactly the truth's groups; cross-channel groups and 30-60 min repeats that must NOT merge both occur."""
    window = truth["merge_window_minutes"] * 60
    assert window == 30 * 60
    customer = truth["order_customer"]
    door = truth["order_address"]  # the true door: the text differs per app, families share one
    for group in truth["merge_groups"]:
        assert len(group) >= 2
        fs = [valid_facts[k] for k in group]
        assert len({customer[k] for k in group}) == 1
        assert len({door[k] for k in group}) == 1 and len({f.store for f in fs}) == 1
        assert all(f.fulfilment == "delivery" and not f.cancelled for f in fs)
        first = min(f.created for f in fs)
        assert fs[0].created == first and all(f.created - first <= window for f in fs)

    buckets: dict[tuple[str, str, str], list[Facts]] = defaultdict(list)
    for f in valid_facts.values():
        if f.fulfilment == "delivery" and not f.cancelled:
            buckets[(customer[f.key], door[f.key], f.store)].append(f)
    expected: list[list[str]] = []
    outside_pairs = 0
    for fs in buckets.values():
        fs.sort(key=lambda f: (f.created, f.key))
        group = [fs[0]]
        for f in fs[1:]:
            if f.created - group[0].created <= window:
                group.append(f)
            else:
                if len(group) > 1:
                    expected.append([g.key for g in group])
                if f.created - group[-1].created <= 2 * window:
                    outside_pairs += 1
                group = [f]
        if len(group) > 1:
            expected.append([g.key for g in group])
    assert sorted(expected) == sorted(truth["merge_groups"])
    delivery = sum(f.fulfilment == "delivery" for f in valid_facts.values())
    grouped = sum(len(g) for g in truth["merge_groups"])
    assert 0.05 * delivery < grouped < 0.2 * delivery
    assert sum(len({k.split(":")[0] for k in g}) > 1 for g in truth["merge_groups"]) > len(truth["merge_groups"]) / 3
    assert outside_pairs >= 10
    assert any(len(g) >= 3 for g in truth["merge_groups"])


def test_world_customers_live_near_their_store_with_distinct_identities() -> None:
    """Every customer address lies within ~3 km of its store, which is the nearest store; phones and the
    per-channel ids (app member, WeChat openid, Meituan, Eleme) are unique per customer; a minority of
    customers have a second address."""
    world = build_world(DATE, SEED, 2000)
    coslat = math.cos(math.radians(31.2))
    for c in world.customers:
        assert c.preferred_store == c.addresses[0].store
        for a in c.addresses:
            dists = [math.hypot((a.lat - s.lat) * 111_000, (a.lng - s.lng) * 111_000 * coslat) for s in world.stores]
            assert dists[a.store] == min(dists) and dists[a.store] <= 3050
            assert a.text.startswith("上海市" + a.district)
    for attr in ("customer_id", "phone", "member_id", "openid", "meituan_user_id", "eleme_user_id"):
        values = [getattr(c, attr) for c in world.customers]
        assert len(set(values)) == len(values), attr
    assert all(re.fullmatch(r"o[A-Za-z0-9_-]{27}", c.openid) for c in world.customers)
    assert 0.05 < sum(len(c.addresses) > 1 for c in world.customers) / len(world.customers) < 0.2
    assert {r.store_id for r in world.riders} == {s.store_id for s in world.stores}


def test_customer_addresses_parse_with_cpca(landed: dict[str, list[Landed]], truth: dict[str, Any]) -> None:
    """cpca resolves every customer's address (as the world holds it and as customers typed it on the
    platforms, sometimes without 上海市) to 上海市 and the right district."""
    import cpca

    world = build_world(DATE, SEED, 900)
    addresses = [a for c in world.customers for a in c.addresses]
    texts = [a.text for a in addresses]
    # A map-picked POI address ("路号 (楼室)") names no district: the reverse-geocoded part after @# does.
    typed = [
        r.obj["recipient_address"].split("@#")[" (" in r.obj["recipient_address"]]
        for r in landed["meituan"][:400]
        if r.obj and r.obj["recipient_address"]
    ]
    assert any(not t.startswith("上海市") for t in typed)
    frame = cpca.transform(texts + typed)
    assert (frame["省"] == "上海市").all()
    districts = list(frame["区"])
    assert districts[: len(texts)] == [a.district for a in addresses]
    assert all(d.endswith("区") for d in districts)


def test_world_has_the_hard_cases(valid_facts: dict[str, Facts], truth: dict[str, Any]) -> None:
    """Families and offices share a door (different true customers, one true address), the same door is
    written in more than one way, Meituan masks phones as 3+5 stars+3, and the world's platform fees carry a
    minimum per order (the stated receivable is not a flat rate of the goods)."""
    from simulator.platform_fees import platform_receivable

    door, customer = truth["order_address"], truth["order_customer"]
    people_per_door: dict[str, set[str]] = defaultdict(set)
    texts_per_door: dict[str, set[str]] = defaultdict(set)
    for key, f in valid_facts.items():
        people_per_door[door[key]].add(customer[key])
        if f.address:
            texts_per_door[door[key]].add(f.address)
    assert sum(len(p) > 1 for p in people_per_door.values()) >= 10
    assert sum(len(t) > 1 for t in texts_per_door.values()) >= 50
    assert any(re.fullmatch(r"1\d{2}\*{5}\d{3}", f.phone) for k, f in valid_facts.items() if k.startswith("meituan:"))
    small = platform_receivable("meituan", 1000, 0, 0)
    assert small == 1000 - 300 - 250  # the 3-yuan minimum commission, not 6.5% of 10 yuan
