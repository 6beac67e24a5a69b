"""The simulator's status progress and injected problems, read back from the landing files with
a small reader written here from docs/landing-formats.md: status pushes are the same order in the
channel's own format with the new status and its status time, and the ground truth's problems are what
the files actually contain, with nothing else that would look like one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulator import load_truth, simulate_day

DATE = dt.date(2026, 11, 26)
SH = dt.timezone(dt.timedelta(hours=8))
JSON_CHANNELS = ("app", "miniprogram", "meituan", "eleme")
NATIVE = {
    "app": {"picking", "dispatched", "delivered"},
    "miniprogram": {"picking", "dispatched", "delivered"},
    "meituan": {"4", "8"},
    "eleme": {"valid", "settled"},
}


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("problems")
    simulate_day(DATE, 3000, 31, out)
    return out, load_truth(out, DATE)


def _json_records(out: Path, channel: str) -> dict[tuple[str, int], Any]:
    records = {}
    for path in sorted((out / "orders" / channel / DATE.isoformat()).iterdir()):
        rel = path.relative_to(out).as_posix()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                records[(rel, i)] = orjson.loads(line)
            except orjson.JSONDecodeError:
                records[(rel, i)] = None
    return records


def _inner(obj: dict, field: str) -> Any:
    """A JSON-text field parsed, None when it is a broken record's cut-off text."""
    try:
        return orjson.loads(obj[field])
    except orjson.JSONDecodeError:
        return None


def _status_and_time(channel: str, obj: dict) -> tuple[str, str, int]:
    """(order key, native status, status time as epoch seconds) of a JSON record."""
    if channel in ("app", "miniprogram"):
        when = obj["updated_at"]
        when = when if channel == "miniprogram" else int(dt.datetime.fromisoformat(when).timestamp())
        return f"{channel}:{obj['order_no']}", obj["status"], when
    if channel == "meituan":
        return f"meituan:{obj['order_id']}", obj["status"], int(obj["utime"])
    inner = _inner(obj, "message") or {"id": None, "status": None}
    return f"eleme:{inner['id']}", inner["status"], obj["timestamp"] // 1000


def test_status_pushes_are_the_same_order_with_a_new_status(day) -> None:
    """Each status push in the truth is a record of that order with the channel's own code and status
    time, later than the order was placed; an order's first push says it is paid (app/mini-program 'paid',
    Meituan 2), and a delivered push is the last thing that happens to an order."""
    out, truth = day
    by_channel: dict[str, list[dict]] = defaultdict(list)
    for update in truth["status_updates"]:
        by_channel[update["channel"]].append(update)
    assert set(by_channel) == set(JSON_CHANNELS)
    pushed_at: dict[str, dict[str, int]] = defaultdict(dict)
    for channel in JSON_CHANNELS:
        records = _json_records(out, channel)
        updates = {(u["file"], u["line"]): u for u in by_channel[channel]}
        firsts = {}
        for (file, line), obj in records.items():
            if obj is None:
                continue
            key, status, when = _status_and_time(channel, obj)
            if (file, line) in updates:
                assert key == updates[(file, line)]["order_key"] and status in NATIVE[channel], (file, line)
                pushed_at[key][updates[(file, line)]["status"]] = when
            else:
                firsts.setdefault(key, status)
        progressing = {u["order_key"] for u in by_channel[channel]}
        if channel in ("app", "miniprogram", "meituan"):
            assert {firsts[k] for k in progressing} == ({"paid"} if channel != "meituan" else {"2"})
    for key, times in pushed_at.items():
        if "delivered" in times:
            assert times["delivered"] == max(times.values()), key
    assert sum("delivered" in t for t in pushed_at.values()) > 0.7 * len(pushed_at)


def test_injected_victims_are_disjoint_and_outside_merge_groups(day) -> None:
    """No order carries two injected problems, and none takes part in a merge group, so the merge truth is
    untouched by them."""
    _, truth = day
    injected = truth["problems"]["injected"]
    keys = [x["order_key"] for kind in ("oversell", "price_error", "bad_address", "late") for x in injected[kind]]
    assert len(keys) == len(set(keys)) and len(keys) >= 4 * 6
    grouped = {k for group in truth["merge_groups"] for k in group}
    assert not set(keys) & grouped
    assert not set(keys) & set(truth["cancelled"])


def test_nothing_looks_like_a_problem_but_the_injected_ones(day) -> None:
    """What the pipeline should report is what was injected, plus only the unavoidable consequences the
    truth names: orders containing a mis-listed SKU are price mismatches. No natural late order, no
    missing payment, no address problem or oversell beyond the injected ones."""
    _, truth = day
    problems = truth["problems"]
    injected, expected = problems["injected"], problems["expected_exceptions"]
    assert expected["late_risk"] == sorted(x["order_key"] for x in injected["late"])
    assert expected["bad_address"] == sorted(x["order_key"] for x in injected["bad_address"])
    assert expected["out_of_stock"] == sorted(x["order_key"] for x in injected["oversell"])
    assert expected["payment_missing"] == []
    price_errors = {x["order_key"] for x in injected["price_error"]}
    assert price_errors <= set(expected["price_mismatch"])
    assert len(set(expected["price_mismatch"]) - price_errors) >= 1  # the mis-listed SKUs were sold


def _local_epoch(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=SH).timestamp())


def _demand(out: Path, channel: str) -> list[tuple[tuple[str, int], str, str, int, int]]:
    """(record position, store, sku, quantity, placed at) per line item of every record of a channel."""
    items = []
    if channel in JSON_CHANNELS:
        for pos, obj in _json_records(out, channel).items():
            if obj is None:
                continue
            if channel in ("app", "miniprogram"):
                created = obj["created_at"]
                created = created if channel == "miniprogram" else int(dt.datetime.fromisoformat(created).timestamp())
                items += [(pos, obj["store_code"], i["sku"], i["qty"], created) for i in obj["items"]]
            elif channel == "meituan":
                detail = _inner(obj, "detail")
                items += [
                    (pos, obj["app_poi_code"], d["app_food_code"], d["quantity"], int(obj["ctime"]))
                    for d in detail or ()
                ]
            elif (m := _inner(obj, "message")) is not None:
                items += [
                    (pos, m["openId"], i["extendCode"], i["quantity"], _local_epoch(m["createdAt"]))
                    for g in m["groups"]
                    for i in g["items"]
                ]
        return items
    store, sku, qty, when = (1, 6, 8, 4) if channel == "pos" else (4, 8, 10, 14)
    for path in sorted((out / "orders" / channel / DATE.isoformat()).iterdir()):
        rel = path.relative_to(out).as_posix()
        start, current = 0, None
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()[1:], start=2):
            row = line.split(",")
            if row[0] != current:
                start, current = i, row[0]
            items.append(((rel, start), row[store], row[sku], int(row[qty]), _local_epoch(row[when])))
    return items


def test_stock_is_sized_so_only_the_injected_orders_oversell(day) -> None:
    """Replaying every loaded order placed after the 06:00 count against the stock file and the day's goods
    receipts (cancellations ignored, which only makes it stricter) leaves every store/SKU covered except the
    injected pairs, which are short by exactly the recorded shortfall. A pair restocked mid-morning is covered
    only if its count covers the orders before the truck and count plus receipt cover the day."""
    out, truth = day
    stock = {}
    for line in (
        (out / "reference" / "stock_snapshots" / DATE.isoformat() / "stock_snapshots.jsonl").read_bytes().splitlines()
    ):
        row = orjson.loads(line)
        stock[(row["store_id"], row["sku_id"])] = row["on_hand"]
    received: dict[tuple[str, str], tuple[int, int]] = {}  # pair -> (quantity, epoch of arrival)
    movements = out / "reference" / "stock_movements" / DATE.isoformat() / "stock_movements.jsonl"
    for line in movements.read_bytes().splitlines() if movements.exists() else []:
        row = orjson.loads(line)
        assert row["movement_type"] == "receipt", row
        received[(row["store_id"], row["sku_id"])] = (
            row["quantity"],
            int(dt.datetime.fromisoformat(row["moved_at"]).timestamp()),
        )
    count_at = int(dt.datetime(2026, 11, 26, 6, tzinfo=SH).timestamp())
    skip = {(b["file"], b["line"]) for b in truth["bad_records"]} | {
        (d["file"], d["line"]) for d in truth["duplicates"]
    }
    skip |= {(u["file"], u["line"]) for u in truth["status_updates"]}
    demand: dict[tuple[str, str], int] = defaultdict(int)
    before_truck: dict[tuple[str, str], int] = defaultdict(int)
    for channel in (*JSON_CHANNELS, "pos", "groupbuy"):
        for pos, store, sku, qty, created in _demand(out, channel):
            if pos not in skip and created >= count_at:
                demand[(store, sku)] += qty
                if (store, sku) in received and created < received[(store, sku)][1]:
                    before_truck[(store, sku)] += qty
    short = {(x["store_id"], x["sku_id"]): x for x in truth["problems"]["injected"]["oversell"]}
    assert short, "no oversell injected"
    assert received, "no goods receipt written: the contract has stock_movements, the simulator should use it"
    assert not set(received) & set(short)
    over = {
        pair
        for pair, qty in demand.items()
        if pair not in short and (qty > stock[pair] + received.get(pair, (0, 0))[0] or before_truck[pair] > stock[pair])
    }
    assert not over, sorted(over)[:5]
    assert any(demand[pair] > stock[pair] for pair in received), "no receipt is needed: the check proves nothing"
    assert {pair: demand[pair] - stock[pair] for pair in short} == {pair: x["shortfall"] for pair, x in short.items()}


def _platform_run(channel: str, obj: dict) -> tuple[str, set[str], bool] | None:
    """(order key, SKUs, whether the platform's payment leaves the platform's own promotions out of the
    merchant's discount) of a first push carrying a platform-run promotion, None otherwise."""
    if channel == "meituan":
        extras, receive, detail = _inner(obj, "extras"), _inner(obj, "poi_receive_detail"), _inner(obj, "detail")
        if extras is None or receive is None or not detail:
            return None
        # Our only fully platform-funded Meituan promotion is a delivery-fee cut (type 25); a 满减 (2) or
        # red packet (9) charged wholly to Meituan is the platform's own.
        if not any(
            e["type"] in (2, 9) and e["poi_charge"] == 0 and e["mt_charge"] == e["reduce_fee"] > 0 for e in extras
        ):
            return None
        fen = lambda yuan: round(float(yuan) * 100)  # noqa: E731
        packaging = int(obj["package_bag_money"])
        goods = fen(obj["original_price"]) - fen(obj["shipping_fee"]) - packaging
        merchant = sum(fen(e["poi_charge"]) for e in extras) + sum(
            fen(d["original_price"]) * d["quantity"] - fen(d["price"]) * d["quantity"] for d in detail
        )
        paid_by_platform = (
            goods - merchant + packaging - receive["foodShareFeeChargeByPoi"] - receive["performanceServiceFee"]
        )
        return (
            f"meituan:{obj['order_id']}",
            {d["app_food_code"] for d in detail},
            receive["wmPoiReceiveCent"] == paid_by_platform,
        )
    m = _inner(obj, "message")
    if m is None or not m["groups"][0]["items"]:
        return None
    if not (
        m["hongbao"] < 0 or any(a["name"] == "平台满减" and a["restaurantPart"] == 0 for a in m["orderActivities"])
    ):
        return None
    # docs/channel-semantics.md: income = totalPrice − deliverFee + |elemePart| + |hongbao| − |serviceFee|.
    income = m["totalPrice"] - m["deliverFee"] - m["elemePart"] - m["hongbao"] + m["serviceFee"]
    return (
        f"eleme:{m['id']}",
        {i["extendCode"] for g in m["groups"] for i in g["items"]},
        abs(income - m["income"]) < 0.005,
    )


def test_platform_run_promotions_are_written_natively_and_are_not_price_errors(day) -> None:
    """Meituan and Eleme run promotions of their own that are not in our promotions table: Meituan states
    them as extras charged wholly to Meituan, Eleme as a platform 满减 activity or a hongbao outside the
    activities. Such orders are written on both platforms, what the platform says it pays is unaffected by
    them, and none is a price mismatch in the truth unless a price error was injected into it or it holds a
    SKU the channel lists at the wrong price."""
    out, truth = day
    problems = truth["problems"]
    mismatched = set(problems["expected_exceptions"]["price_mismatch"])
    explained = {x["order_key"] for x in problems["injected"]["price_error"]}
    mislisted = {(x["channel"], x["sku_id"]) for x in problems["injected"]["list_price"]}
    seen: dict[str, int] = defaultdict(int)
    for channel in ("meituan", "eleme"):
        for obj in _json_records(out, channel).values():
            found = _platform_run(channel, obj) if obj is not None else None
            if found is None:
                continue
            key, skus, receivable_ok = found
            seen[channel] += 1
            assert receivable_ok, key
            if key in mismatched:
                assert key in explained or any((channel, sku) in mislisted for sku in skus), key
    assert seen["meituan"] >= 50 and seen["eleme"] >= 50, dict(seen)
