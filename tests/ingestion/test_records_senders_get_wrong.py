"""Records as real senders get them wrong, each in its channel's own format: a time in milliseconds where
seconds are documented, a status time that cannot be read, an item that is not an object, yuan written into a
fen field, a line separator inside a JSON string, a till cell holding a line break. Each must end quarantined
with a reason that names what is wrong, or loaded whole: never loaded with a value silently dropped.

And what senders get right that a strict reader would refuse: RFC 3339 times with a Z or fractions of a second."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from test_adapters import app_order, run

from ingestion.adapters.base import NormalisedBatch
from ingestion.adapters.pos import HEADER
from ingestion.records import csv_records, jsonl_records


def normalised(channel: str, *records: dict | str) -> NormalisedBatch:
    return run(channel, *(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records))


def quarantined(batch: NormalisedBatch) -> list[tuple[str, str]]:
    assert batch.orders.height == 0, "the record was loaded"
    return [(row["error_code"], row["message"]) for row in batch.quarantine.to_dicts()]


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2026-11-26T03:32:05Z", dt.datetime(2026, 11, 26, 3, 32, 5)),
        ("2026-11-26T11:32:05.250+08:00", dt.datetime(2026, 11, 26, 3, 32, 5, 250000)),
        ("2026-11-26 11:32:05+08:00", dt.datetime(2026, 11, 26, 3, 32, 5)),
    ],
)
def test_rfc3339_times_load(written: str, utc: dt.datetime) -> None:
    batch = normalised("app", app_order(created_at=written))
    assert batch.quarantine.height == 0, batch.quarantine["message"].to_list()
    assert batch.orders["created_at"].to_list() == [utc]


def test_a_time_without_its_offset_is_quarantined_naming_the_format() -> None:
    [(code, message)] = quarantined(normalised("app", app_order(created_at="2026-11-26 11:32:05")))
    assert code == "bad_value"
    assert "order time '2026-11-26 11:32:05' is not an ISO 8601 time with its UTC offset" in message


def test_epoch_milliseconds_where_seconds_are_documented_are_quarantined_not_dated_in_year_58872() -> None:
    """Meituan documents ctime in epoch seconds; 1795636800000 read as seconds is in the year 58872."""
    push = {
        "order_id": "88001",
        "app_poi_code": "SH001",
        "recipient_name": "张",
        "recipient_phone": "13812345678",
        "recipient_address": "上海市浦东新区碧波路690号3号楼501室",
        "ctime": "1795636800000",
        "utime": "1795636800",
        "status": "2",
        "total": "15",
        "original_price": "15",
        "shipping_fee": "0",
        "detail": json.dumps([{"app_food_code": "SKU0001", "quantity": 2, "price": 7.5}]),
    }
    [(code, message)] = quarantined(normalised("meituan", push))
    assert code == "bad_value"
    assert "order time '1795636800000' is not a time in epoch seconds between 2000 and 2100" in message


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("updated_at", "2026-11-26 12:40:00", "status time"),
        ("paid_at", "2026/11/26 12:01:00", "payment time"),
    ],
)
def test_a_given_time_that_cannot_be_read_is_quarantined_not_left_out(field: str, value: str, named: str) -> None:
    """Left null, a status time would rank the version below every other (it would never apply), and a payment
    time would be lost without a word."""
    [(code, message)] = quarantined(normalised("app", app_order(**{field: value})))
    assert code == "bad_value"
    assert f"{named} '{value}' is not an ISO 8601 time" in message


def test_no_status_time_is_not_a_bad_one() -> None:
    batch = normalised("app", app_order(updated_at=None, paid_at=""))
    assert batch.quarantine.height == 0, batch.quarantine["message"].to_list()


@pytest.mark.parametrize(
    ("channel", "record"),
    [
        ("app", app_order(items=[{"sku": "SKU0001", "qty": 2, "unit_price": 7.5}, "SKU0004 x1"])),
        (
            "meituan",
            {
                "order_id": "88002",
                "app_poi_code": "SH001",
                "recipient_phone": "13812345678",
                "recipient_address": "上海市浦东新区碧波路690号3号楼501室",
                "ctime": "1795636800",
                "status": "2",
                "total": "15",
                "detail": json.dumps([{"app_food_code": "SKU0001", "quantity": 2, "price": 7.5}, "SKU0004*1"]),
            },
        ),
        (
            "eleme",
            {
                "id": "51001",
                "openId": "SH001",
                "phoneList": ["13812345678"],
                "address": "上海市浦东新区碧波路690号3号楼501室",
                "createdAt": "2026-11-26T11:32:05",
                "status": "unprocessed",
                "totalPrice": 15,
                "groups": [{"type": "normal", "items": [{"extendCode": "SKU0001", "quantity": 2, "price": 7.5}, 7]}],
            },
        ),
    ],
)
def test_an_item_that_is_not_an_object_quarantines_the_order(channel: str, record: dict) -> None:
    """Skipping it would load the order with a line missing, which the accounting identity cannot see."""
    [(code, message)] = quarantined(normalised(channel, record))
    assert code == "bad_value"
    assert "2 is not a JSON object" in message


@pytest.mark.parametrize("unit_price", [7.5, 750.5])
def test_a_fen_field_that_is_not_whole_fen_is_quarantined(unit_price: float) -> None:
    """The mini-program sends money in fen: 7.5 there is yuan in the wrong field (it would load as ¥0.08)."""
    order = app_order(
        order_no="MP1",
        openid="o1",
        created_at=1795636800,
        paid_at=1795636830,
        updated_at=1795636830,
        delivery_window=None,
        items=[{"sku": "SKU0001", "qty": 2, "unit_price": unit_price}],
        amounts={"goods": 1500, "paid": 1500},
    )
    [(code, message)] = quarantined(normalised("miniprogram", order))
    assert code == "bad_value"
    assert f"price '{unit_price}' is not an amount in whole fen" in message


def test_a_negative_amount_is_named() -> None:
    order = app_order(amounts={"goods": 15.0, "delivery_fee": -3.0, "paid": 12.0})
    [(code, message)] = quarantined(normalised("app", order))
    assert code == "bad_value"
    assert "delivery fee -3 is negative" in message


def test_a_line_separator_inside_a_json_string_keeps_the_record_whole() -> None:
    """U+2028 may stand unescaped in a JSON string; it is not the end of a JSON-lines record."""
    address = "上海市浦东新区碧波路690号\u20283号楼501室"
    text = "\n".join(json.dumps(app_order(order_no=n, receiver={"address": address}), ensure_ascii=False) for n in "AB")
    records = list(jsonl_records(text + "\n", "f.jsonl"))
    assert [r.source_line for r in records] == [1, 2]
    assert [json.loads(r.text)["order_no"] for r in records] == ["A", "B"]


def test_a_till_cell_holding_a_line_break_keeps_its_whole_row() -> None:
    """The record starts on the row's first physical line and its stored text holds all of them."""
    row = 'T1,SH001,01,c1,2026-11-26 10:00:00,,SKU0001,"菠菜\n500g",1,7.50,7.50,0,7.50,现金,成交'
    text = ",".join(HEADER) + "\n" + row + "\n" + row.replace("T1", "T2") + "\n"
    records = list(csv_records(text, "f.csv", HEADER, "小票号"))
    assert [r.source_line for r in records] == [2, 4]
    assert records[0].text == row
    assert records[0].rows[0][7] == "菠菜\n500g"


def test_a_meituan_cancellation_notice_landed_as_a_file_says_what_it_is() -> None:
    """Meituan's cancel push carries the order id and a reason only; read as an order push it would be
    quarantined for its missing store, which sends whoever reads the reason the wrong way."""
    notice = {"order_id": "88003", "reason_code": "1001", "reason": "用户取消", "timestamp": "1795636900", "sig": "x"}
    [(code, message)] = quarantined(normalised("meituan", notice))
    assert code == "not_an_order"
    assert "cancellation notice for order 88003 (reason_code 1001 用户取消)" in message
    assert "/push/meituan/cancel" in message
