"""Each channel adapter, fed payloads with the channel's real field names, gives the contract's values:
yuan from fen, UTC from local or epoch times, GCJ-02 degrees, normalised phones, and a quarantine row
(with the right code) for every bad record."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import normalise
from ingestion.records import RawRecord, csv_records

CATALOGUE = Catalogue(
    store_ids=frozenset({"SH001"}),
    products=pl.DataFrame(
        {
            "sku_id": ["SKU0001", "SKU0002"],
            "weight_g": [300, 1000],
            "volume_ml": [1200, 1500],
            "temp_zone": ["chilled", "frozen"],
        },
        schema={"sku_id": pl.String, "weight_g": pl.Int32, "volume_ml": pl.Int32, "temp_zone": pl.String},
    ),
)
RECEIVED = dt.datetime(2026, 11, 26, 4, 0, 0)
ADDRESS = "上海市浦东新区张江镇碧波路690号3号楼2单元501室"


def run(channel: str, *texts: str):
    records = [RawRecord(f"orders/{channel}/2026-11-26/f.jsonl", i, t) for i, t in enumerate(texts, start=1)]
    return normalise(ADAPTERS[channel], records, CATALOGUE, "b1", RECEIVED)


def run_csv(channel: str, text: str):
    spec = ADAPTERS[channel]
    records = list(csv_records(text, f"orders/{channel}/2026-11-26/f.csv", spec.csv_header, spec.csv_key_column))
    return normalise(spec, records, CATALOGUE, "b1", RECEIVED)


def only_order(batch) -> dict:
    assert batch.quarantine.height == 0, batch.quarantine.to_dicts()
    assert batch.orders.height == 1
    return batch.orders.to_dicts()[0]


def app_order(**overrides) -> dict:
    order = {
        "order_no": "APP1",
        "member_id": "M1",
        "store_code": "SH001",
        "status": "paid",
        "fulfilment": "delivery",
        "created_at": "2026-11-26T11:32:05+08:00",
        "paid_at": "2026-11-26T11:32:30+08:00",
        "receiver": {"name": "张伟", "phone": "+86 138-1234-5678", "address": ADDRESS, "lat": 31.2035, "lng": 121.5903},
        "delivery_window": {"from": "2026-11-26T12:00:00+08:00", "to": "2026-11-26T12:30:00+08:00"},
        "items": [
            {"sku": "SKU0001", "name": "有机菠菜", "qty": 2, "unit_price": 6.9, "original_price": 7.9, "discount": 2.0}
        ],
        "amounts": {
            "goods": 15.8,
            "merchant_discount": 2.0,
            "platform_discount": 0.0,
            "delivery_fee": 3.0,
            "packaging_fee": 0.5,
            "paid": 17.3,
        },
        "payment_method": "wechat",
    }
    order.update(overrides)
    return order


def test_app_order_normalises_times_to_utc_phone_and_address():
    """The app's ISO times with +08:00 become naive UTC; +86 and dashes are stripped from the phone;
    the address is split by cpca with the township as street and a merge key on admin code + detail."""
    order = only_order(run("app", json.dumps(app_order(), ensure_ascii=False)))
    assert order["order_key"] == "app:APP1"
    assert order["created_at"] == dt.datetime(2026, 11, 26, 3, 32, 5)
    assert order["promised_to"] == dt.datetime(2026, 11, 26, 4, 30)
    assert (order["phone"], order["phone_kind"], order["phone_last4"]) == ("13812345678", "mobile", "5678")
    assert (order["province"], order["city"], order["district"], order["street"]) == (
        "上海市",
        "上海市",
        "浦东新区",
        "张江镇",
    )
    assert order["admin_code"] == "310115"
    assert order["address_key"] == "310115|碧波路690号3栋2单元501"  # the canonical door (docs/decisions.md)
    assert order["paid_amount"] == Decimal("17.30")


def test_miniprogram_fen_and_epoch_seconds():
    """The mini-program sends fen and epoch seconds: 1730 fen is ¥17.30 and 1795663925 is 03:32:05 UTC."""
    mp = app_order(
        order_no="MP1",
        created_at=1795663925,
        paid_at=1795663950,
        delivery_window=None,
        items=[{"sku": "SKU0002", "qty": 1, "unit_price": 2290, "original_price": 2500, "discount": 210}],
        amounts={
            "goods": 2500,
            "merchant_discount": 210,
            "platform_discount": 0,
            "delivery_fee": 300,
            "packaging_fee": 50,
            "paid": 2640,
        },
    )
    mp.pop("member_id")
    mp["openid"] = "oXyz"
    batch = run("miniprogram", json.dumps(mp, ensure_ascii=False))
    order = only_order(batch)
    assert order["created_at"] == dt.datetime(2026, 11, 26, 3, 32, 5)
    assert order["paid_amount"] == Decimal("26.40")
    assert order["channel_user_id"] == "oXyz"
    line = batch.lines.to_dicts()[0]
    assert (line["unit_price"], line["line_discount"]) == (Decimal("22.90"), Decimal("2.10"))
    assert (line["weight_g"], line["temp_zone"]) == (1000, "frozen")


def meituan_push(**overrides) -> str:
    detail = [
        {
            "app_food_code": "SKU0002",
            "food_name": "水饺",
            "sku_id": "mt-88",
            "quantity": 2,
            "price": 22.0,
            "original_price": 25.0,
            "unit": "袋",
            "weight": 1000,
        }
    ]
    extras = [{"act_detail_id": 1, "reduce_fee": 5, "mt_charge": 2, "poi_charge": 3, "remark": "满50减5", "type": 2}]
    push = {
        "order_id": "27000012345",
        "wm_order_id_view": "27000012345",
        "app_poi_code": "SH001",
        "recipient_name": "张*(先生)",
        "recipient_phone": "138****5678",
        "recipient_address": f"{ADDRESS}@#上海市浦东新区碧波路690号",
        "latitude": "31203500",
        "longitude": "121590300",
        "ctime": "1795665125",
        "utime": "1795665125",
        "delivery_time": "0",
        "estimate_arrival_time": "1795666925",
        "status": "2",
        "pick_type": "0",
        "pay_type": "2",
        "shipping_fee": "3.5",
        "total": "43.0",
        "original_price": "54.0",
        "package_bag_money": "50",
        "detail": json.dumps(detail, ensure_ascii=False),
        "extras": json.dumps(extras, ensure_ascii=False),
        "poi_receive_detail": '{"wmPoiReceiveCent": 3620}',
    }
    push.update(overrides)
    return json.dumps({k: str(v) for k, v in push.items()}, ensure_ascii=False)


def test_meituan_push_decodes_json_strings_and_scales_coordinates():
    """Meituan's detail/extras are JSON text; coordinates are GCJ-02 × 1e6; package_bag_money is fen;
    original_price (54) includes delivery (3.5) and packaging (0.5), so goods are 50; the extras' 5 off is
    split poi 3 / mt 2, and the item discount (25 − 22) × 2 that the extras do not list is the merchant's;
    wmPoiReceiveCent is fen; a masked phone keeps its real last four digits."""
    batch = run("meituan", meituan_push())
    order = only_order(batch)
    assert order["goods_amount"] == Decimal("50.00")
    assert order["merchant_receivable"] == Decimal("36.20")
    assert (order["lat"], order["lng"]) == (31.2035, 121.5903)
    assert order["created_at"] == dt.datetime(2026, 11, 26, 3, 52, 5)
    assert order["promised_to"] == dt.datetime(2026, 11, 26, 4, 22, 5)
    assert order["packaging_fee"] == Decimal("0.50")
    assert order["merchant_discount"] == Decimal("9.00")  # 3 poi_charge + (25 - 22) × 2
    assert order["platform_discount"] == Decimal("2.00")
    assert (order["phone_kind"], order["phone_last4"]) == ("masked", "5678")
    assert order["address_raw"] == ADDRESS  # the typed part, before @#
    assert batch.lines.to_dicts()[0]["channel_sku"] == "mt-88"


def test_meituan_privacy_number_reveals_no_last_four():
    """A privacy relay number (13812345678_1234) is kept as received but gives no customer digits."""
    order = only_order(run("meituan", meituan_push(recipient_phone="13812345678_1234")))
    assert (order["phone"], order["phone_kind"], order["phone_last4"]) == ("13812345678_1234", "privacy", None)


PRIVACY_REMARK = "收餐人隐私号 18449039731_7333，手机号 199****8582 不需要餐具"


@pytest.mark.parametrize(
    ("phone", "caution", "kind", "last4"),
    [
        ("138*****678", "", "masked", None),  # Meituan's documented mask: a 3-digit tail is not four digits
        ("138****5678", "", "masked", "5678"),
        ("156*013", "", "masked", None),  # one star, as in Meituan's desensitised orders
        ("１３８＊＊＊＊５６７８", "", "masked", "5678"),  # full width
        ("手机尾号1234", "", "masked", "1234"),
        ("13812345678_1234", "", "privacy", None),
        ("13812345678_123456", "", "privacy", None),
        ("132********_6459", "", "privacy", None),  # the relay's own digits masked
        ("18449039731_7333", PRIVACY_REMARK, "privacy", "8582"),  # the remark's masked real number
        ("138*****678", PRIVACY_REMARK, "masked", "8582"),
        ("13812345678", PRIVACY_REMARK, "mobile", "5678"),  # a full number is never overridden
    ],
)
def test_meituan_phone_forms_load_with_the_customers_own_digits(phone, caution, kind, last4):
    """Every documented Meituan form loads (none is bad_phone); last4 only where the digits are the
    customer's: the number itself, else the remark's 脱敏真实号 beside a relay number."""
    order = only_order(run("meituan", meituan_push(recipient_phone=phone, caution=caution)))
    assert (order["phone_kind"], order["phone_last4"]) == (kind, last4)


def test_meituan_backup_privacy_number_when_the_main_one_is_blank():
    """backup_recipient_phone is a JSON list of further relay numbers: used when recipient_phone is empty."""
    order = only_order(run("meituan", meituan_push(recipient_phone="", backup_recipient_phone='["17896091441_7679"]')))
    assert (order["phone"], order["phone_kind"]) == ("17896091441_7679", "privacy")


def test_meituan_push_still_url_encoded_and_erp_camelcase_give_the_same_order():
    """The form as received (values percent-encoded, '+' for space) and the ERP camelCase dialect with typed
    values read the same as the decoded snake_case push."""
    from urllib.parse import quote_plus

    plain = json.loads(meituan_push())
    encoded = json.dumps({k: quote_plus(v) for k, v in plain.items()})
    camel = {
        "orderId": int(plain["order_id"]),
        "orderIdView": int(plain["order_id"]),
        "ePoiId": "SH001",
        "originalPrice": 54.0,
        "shippingFee": 3.5,
        "total": 43.0,
        "packageBagMoney": 50,
        "ctime": 1795665125,
        "utime": 1795665125,
        "status": 2,
        "payType": 2,
        "deliveryTime": 0,
        "estimateArrivalTime": 1795666925,
        "latitude": 31.2035,
        "longitude": 121.5903,
        **{k: plain[k] for k in ("recipient_name", "recipient_phone", "recipient_address", "detail", "extras")},
        "poiReceiveDetail": plain["poi_receive_detail"],
    }
    want = only_order(run("meituan", meituan_push()))
    for text in (encoded, json.dumps(camel, ensure_ascii=False)):
        got = only_order(run("meituan", text))
        for column in (
            "order_key",
            "store_id",
            "goods_amount",
            "merchant_discount",
            "platform_discount",
            "delivery_fee",
            "packaging_fee",
            "paid_amount",
            "merchant_receivable",
            "phone",
            "address_raw",
            "lat",
            "lng",
            "created_at",
            "status",
        ):
            assert got[column] == want[column], column


def test_meituan_box_fees_listed_item_discount_and_gifts():
    """Box fees (box_num boxes × box_price) are packaging inside original_price; an item discount the extras
    list (type 17) is not counted twice; a gift (type 5) has poi_charge but takes nothing off the bill."""
    detail = [
        {
            "app_food_code": "SKU0002",
            "food_name": "水饺",
            "quantity": 2,
            "price": 22.0,
            "original_price": 25.0,
            "box_num": 2,
            "box_price": 1.0,
        }
    ]
    extras = [
        {"reduce_fee": 6.0, "mt_charge": 0, "poi_charge": 6.0, "remark": "折扣商品", "type": 17},
        {"reduce_fee": 0, "mt_charge": 0, "poi_charge": 3.0, "remark": "满赠", "type": 5},
    ]
    # 50 goods + 2 boxes + 0.5 bag + 3.5 delivery = 56; paid 56 − 6 = 50.
    order = only_order(
        run(
            "meituan",
            meituan_push(
                detail=json.dumps(detail, ensure_ascii=False),
                extras=json.dumps(extras, ensure_ascii=False),
                original_price="56.0",
                total="50.0",
            ),
        )
    )
    assert (order["goods_amount"], order["packaging_fee"]) == (Decimal("50.00"), Decimal("2.50"))
    assert (order["merchant_discount"], order["platform_discount"]) == (Decimal("6.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"detail": '[{"app_food_code": "SKU0002", "quan'}, "broken_json"),
        ({"app_poi_code": ""}, "missing_field"),
        ({"recipient_phone": "12345"}, "bad_phone"),
        ({"app_poi_code": "XX999"}, "unknown_store"),
        ({"detail": json.dumps([{"app_food_code": "SKU7777", "quantity": 1, "price": 1}])}, "unknown_sku"),
        ({"detail": json.dumps([{"app_food_code": "SKU0001", "quantity": -1, "price": 1}])}, "bad_quantity"),
        ({"ctime": "yesterday"}, "bad_value"),
    ],
)
def test_meituan_bad_records_are_quarantined_with_reason(overrides, code):
    """Each kind of bad push lands in quarantine with its code, file and line, and nothing is loaded."""
    batch = run("meituan", meituan_push(**overrides))
    assert batch.orders.height == 0 and batch.lines.height == 0
    row = batch.quarantine.to_dicts()[0]
    assert row["error_code"] == code
    assert row["message"].startswith("orders/meituan/2026-11-26/f.jsonl line 1:")


def test_delivery_without_address_is_missing_field():
    """A delivery order with no address cannot be delivered: missing_field, not loaded."""
    bad = app_order(receiver={"name": "张伟", "phone": "13812345678"})
    batch = run("app", json.dumps(bad, ensure_ascii=False))
    assert batch.quarantine["error_code"].to_list() == ["missing_field"]
    assert "no address" in batch.quarantine["message"][0]
