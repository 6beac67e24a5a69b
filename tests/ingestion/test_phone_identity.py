"""Meituan and Eleme masked and privacy numbers, in the forms the platforms document, load through the real
loader into a DuckDB warehouse and match the customer known by a full mobile at the same door in the real
dbt identity model: Meituan's 138*****678 (three-digit tail), Eleme's 138****5678, a Meituan relay number whose
remark carries the masked real number, and an Eleme relay number with a comma extension (no digits to compare:
the surname picks the person at the door)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion import warehouse
from ingestion.loader import run_batch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dbt"))
from dbt_harness import run_dbt  # noqa: E402

pytestmark = pytest.mark.slow
DAY = "2026-11-26"
DOOR = "上海市浦东新区张江镇碧波路690号3号楼2单元{room}室"


def write(root: Path, kind: str, name: str, rows: list[dict]) -> None:
    folder = root / kind / DAY
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def app(order_no: str, phone: str, room: int, minute: int) -> dict:
    return {
        "order_no": order_no,
        "member_id": f"M{order_no}",
        "store_code": "SH001",
        "status": "paid",
        "fulfilment": "delivery",
        "created_at": f"{DAY}T09:{minute:02d}:00+08:00",
        "paid_at": f"{DAY}T09:{minute:02d}:30+08:00",
        "updated_at": f"{DAY}T09:{minute:02d}:30+08:00",
        "receiver": {
            "name": "张伟",
            "phone": phone,
            "address": DOOR.format(room=room),
            "lat": 31.2035,
            "lng": 121.5903,
        },
        "delivery_window": None,
        "items": [
            {"sku": "SKU0001", "name": "菠菜", "qty": 1, "unit_price": 7.9, "original_price": 7.9, "discount": 0}
        ],
        "amounts": {
            "goods": 7.9,
            "merchant_discount": 0,
            "platform_discount": 0,
            "delivery_fee": 0,
            "packaging_fee": 0,
            "paid": 7.9,
        },
        "payment_method": "wechat",
    }


def meituan(order_id: str, phone: str, room: int, minute: int, caution: str = "") -> dict:
    detail = [{"app_food_code": "SKU0001", "food_name": "菠菜", "quantity": 1, "price": 7.9, "original_price": 7.9}]
    ctime = str(1795626000 + minute * 60)  # 2026-11-26 10:00 local + minute
    return {
        "order_id": order_id,
        "app_poi_code": "SH001",
        "recipient_name": "张(先生)",
        "recipient_phone": phone,
        "caution": caution,
        "recipient_address": f"{DOOR.format(room=room)}@#上海市浦东新区碧波路690号",
        "latitude": "31.2035",
        "longitude": "121.5903",
        "ctime": ctime,
        "utime": ctime,
        "delivery_time": "0",
        "status": "2",
        "pay_type": "2",
        "shipping_fee": "0",
        "total": "7.9",
        "original_price": "7.9",
        "detail": json.dumps(detail, ensure_ascii=False),
        "extras": "[]",
    }


def eleme(order_id: str, phone: str, room: int, minute: int) -> dict:
    item = {"name": "菠菜", "price": 7.9, "quantity": 1, "total": 7.9, "extendCode": "SKU0001"}
    message = {
        "id": order_id,
        "openId": "SH001",
        "consignee": "张先生",
        "phoneList": [phone],
        "address": DOOR.format(room=room),
        "deliveryGeo": "121.5903,31.2035",
        "createdAt": f"{DAY}T11:{minute:02d}:00",
        "activeAt": f"{DAY}T11:{minute:02d}:10",
        "status": "unprocessed",
        "onlinePaid": True,
        "groups": [{"name": "1号篮子", "type": "normal", "items": [item]}],
        "originalPrice": 7.9,
        "totalPrice": 7.9,
        "deliverFee": 0,
        "packageFee": 0,
        "shopPart": 0,
        "elemePart": 0,
    }
    return {
        "requestId": f"r{order_id}",
        "type": 10,
        "message": json.dumps(message, ensure_ascii=False),
        "timestamp": 1795633200000 + minute * 60_000,
    }


def test_masked_and_relay_numbers_load_and_match_the_customer(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write(
        landing,
        "reference/stores",
        "stores.jsonl",
        [
            {
                "store_id": "SH001",
                "name": "张江店",
                "kind": "dark_store",
                "city": "上海市",
                "district": "浦东新区",
                "address": "上海市浦东新区碧波路1号",
                "lat": 31.2,
                "lng": 121.59,
            }
        ],
    )
    write(
        landing,
        "reference/products",
        "products.jsonl",
        [
            {
                "sku_id": "SKU0001",
                "name": "菠菜",
                "category": "veg",
                "unit_price": 7.9,
                "weight_g": 300,
                "volume_ml": 1200,
                "temp_zone": "chilled",
            }
        ],
    )
    write(
        landing,
        "orders/app",
        "app-090000-00001.jsonl",
        [app("APP1", "13812345678", 501, 1), app("APP2", "19900008582", 502, 2), app("APP3", "13700001111", 503, 3)],
    )
    write(
        landing,
        "orders/meituan",
        "meituan-100000-00001.jsonl",
        [
            meituan("MT1", "138*****678", 501, 1),
            meituan(
                "MT2",
                "18449039731_7333",
                502,
                2,
                caution="收餐人隐私号 18449039731_7333，手机号 199****8582 不需要餐具",
            ),
            # The same last four as 19900008582 at the same door, another number: another person.
            meituan("MT3", "18449039731_8888", 502, 4, caution="收餐人隐私号 18449039731_8888，手机号 135****8582"),
        ],
    )
    write(
        landing,
        "orders/eleme",
        "eleme-110000-00001.jsonl",
        [eleme("EL1", "138****5678", 501, 1), eleme("EL2", "13020146407,227", 503, 3)],
    )

    con = warehouse.connect(tmp_path / "wh.duckdb")
    run_batch(con, landing)
    loaded = dict(con.execute("select order_key, phone_kind from raw.orders").fetchall())
    revealed = dict(
        con.execute("select order_key, phone_first3 from raw.orders where phone_first3 is not null").fetchall()
    )
    quarantined = con.execute("select source_file, error_code, message from raw.quarantine").fetchall()
    con.close()
    assert quarantined == []
    assert loaded == {
        "app:APP1": "mobile",
        "app:APP2": "mobile",
        "app:APP3": "mobile",
        "meituan:MT1": "masked",
        "meituan:MT2": "privacy",
        "meituan:MT3": "privacy",
        "eleme:EL1": "masked",
        "eleme:EL2": "privacy",
    }

    result = run_dbt(["build", "--select", "+int_merging__customer_identities"], tmp_path / "wh.duckdb", tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as db:
        found = {
            k: (c, e)
            for k, c, e in db.execute(
                "select order_key, customer_id, evidence from intermediate.int_merging__customer_identities"
            ).fetchall()
        }
    assert found["meituan:MT1"] == ("m:13812345678", "masked_phone_match")
    assert found["eleme:EL1"] == ("m:13812345678", "masked_phone_match")
    assert found["meituan:MT2"] == ("m:19900008582", "masked_phone_match")
    assert found["eleme:EL2"] == ("m:13700001111", "surname_at_address")
    assert revealed == {"meituan:MT2": "199", "meituan:MT3": "135"}
    assert found["meituan:MT3"][1] == "masked_phone_new" and found["meituan:MT3"][0].endswith(":135…8582")
