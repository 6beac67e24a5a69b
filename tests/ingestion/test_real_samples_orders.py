"""The real Meituan and Eleme payloads under ../shared/real-samples (provenance in its README) parse into the
values they hold: ids, store codes, amounts that add up the way the platform defines them (original price =
goods + packaging + delivery; paid = that − discounts), lines, phones, addresses and GCJ-02 coordinates.

The Meituan open-platform push is read as it arrives, values still URL-encoded, and also decoded; the ERP
(聚宝盆) dialect in camelCase with typed values parses too. The Eleme envelope and the bare OOrder message
both parse; an item the merchant has not mapped to an item code (empty extendCode) is quarantined with that
reason, never loaded with a guessed SKU."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote_plus

import polars as pl
import pytest

from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue, NormalisedBatch
from ingestion.adapters.normalise import normalise
from ingestion.records import RawRecord

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-samples"
MEITUAN = SAMPLES / "meituan"
ELEME = SAMPLES / "eleme"
RECEIVED = dt.datetime(2026, 12, 1, 4, 0, 0)
D = Decimal

pytestmark = pytest.mark.skipif(
    not MEITUAN.is_dir() or not ELEME.is_dir(), reason=f"real samples not present at {SAMPLES}"
)


def catalogue(stores: set[str], skus: set[str]) -> Catalogue:
    """The catalogue a retailer selling these items would have: the sample's own store and item codes."""
    products = pl.DataFrame(
        {
            "sku_id": sorted(skus),
            "weight_g": [500] * len(skus),
            "volume_ml": [800] * len(skus),
            "temp_zone": ["ambient"] * len(skus),
        },
        schema={"sku_id": pl.String, "weight_g": pl.Int32, "volume_ml": pl.Int32, "temp_zone": pl.String},
    )
    return Catalogue(store_ids=frozenset(stores), products=products)


def run(channel: str, text: str, stores: set[str], skus: set[str]) -> NormalisedBatch:
    record = RawRecord(f"orders/{channel}/2026-12-01/real.jsonl", 1, text)
    return normalise(ADAPTERS[channel], [record], catalogue(stores, skus), "b-real", RECEIVED)


def only_order(batch: NormalisedBatch) -> dict:
    assert batch.quarantine.height == 0, batch.quarantine.to_dicts()
    assert batch.orders.height == 1
    return batch.orders.to_dicts()[0]


def assert_amounts_add_up(order: dict, lines: list[dict]) -> None:
    """paid = goods − merchant − platform discounts + delivery + packaging; goods = Σ lines' list price × qty."""
    assert order["paid_amount"] == (
        order["goods_amount"]
        - order["merchant_discount"]
        - order["platform_discount"]
        + order["delivery_fee"]
        + order["packaging_fee"]
    )
    assert order["goods_amount"] == sum(line["original_price"] * line["quantity"] for line in lines)


def utc(epoch_s: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(tzinfo=None)


KUANGCAO = "kuangcao_mtwm-sdk_push_params_checkSig.json"


@pytest.mark.parametrize("decoded", [False, True], ids=["url-encoded as received", "decoded first"])
def test_meituan_open_platform_push_url_encoded_or_decoded(decoded: bool) -> None:
    """original_price 9.1 = goods 0.1 + shipping 9.0 (no packaging); total 9.1; the typed address is the part
    before @#; latitude/longitude arrive as plain degrees; an empty poi_receive_detail states nothing."""
    text = (MEITUAN / KUANGCAO).read_text("utf-8").strip()
    if decoded:
        text = json.dumps({k: unquote_plus(v) for k, v in json.loads(text).items()}, ensure_ascii=False)
    batch = run("meituan", text, {"test_poi_01"}, {"1"})
    order = only_order(batch)
    lines = batch.lines.to_dicts()
    assert (order["order_key"], order["store_id"]) == ("meituan:2310763339", "test_poi_01")
    assert (order["goods_amount"], order["delivery_fee"], order["packaging_fee"], order["paid_amount"]) == (
        D("0.10"),
        D("9.00"),
        D("0.00"),
        D("9.10"),
    )
    assert (order["merchant_discount"], order["platform_discount"], order["merchant_receivable"]) == (
        D("0"),
        D("0"),
        None,
    )
    assert [(ln["sku_id"], ln["name"], ln["quantity"], ln["unit_price"]) for ln in lines] == [
        ("1", "测试菜品1", 1, D("0.10"))
    ]
    assert_amounts_add_up(order, lines)
    assert (order["phone"], order["phone_kind"], order["phone_last4"]) == ("13651187030", "mobile", "7030")
    assert order["recipient_name"] == "王磊 (先生)"  # '+' in the form is a space
    assert order["address_raw"] == "西藏昌都市气象局"
    assert (order["lat"], order["lng"]) == (31.143873, 97.175621)
    assert order["created_at"] == utc(1476355768)
    assert (order["status"], order["fulfilment_type"], order["payment_method"]) == ("paid", "delivery", "meituan_pay")


def test_meituan_erp_camelcase_dialect_with_free_text() -> None:
    """ERP names (orderId, ePoiId, poiReceiveDetail) and typed values: originalPrice 10 = goods 1 + shipping 9
    (box 1 × ¥0); wmPoiReceiveCent 1000 fen is ¥10.00 (merchant delivery, so the fee is the merchant's);
    payType 1 is cash on delivery; &nbsp; and tabs in the address become spaces, '1+2=3' stays as written."""
    text = (MEITUAN / "wymenuv2_erp_order_json_kfpttest_20180129.json").read_text("utf-8").strip()
    batch = run("meituan", text, {"0000000028"}, {"026191000218"})
    order = only_order(batch)
    lines = batch.lines.to_dicts()
    assert (order["order_key"], order["store_id"]) == ("meituan:16650443174389601", "0000000028")
    assert (order["goods_amount"], order["delivery_fee"], order["packaging_fee"], order["paid_amount"]) == (
        D("1.00"),
        D("9.00"),
        D("0.00"),
        D("10.00"),
    )
    assert order["merchant_receivable"] == D("10.00")
    assert [(ln["sku_id"], ln["name"], ln["quantity"]) for ln in lines] == [("026191000218", "脆皮手枪腿", 1)]
    assert_amounts_add_up(order, lines)
    assert (order["payment_method"], order["paid_at"]) == ("cash_on_delivery", None)
    assert (order["phone_kind"], order["phone_last4"]) == ("mobile", "9563")
    assert order["address_raw"] == "色金拉 (123号( )(1+2=3))"
    assert "\t" not in order["address_raw"] and "&nbsp;" not in order["address_raw"]
    assert (order["lat"], order["lng"]) == (29.77449, 95.369272)
    assert order["delivered_by"] == "merchant"  # logisticsCode "0000": 商家自配


def test_eleme_envelope_with_mapped_items() -> None:
    """originalPrice 68 = item 60 + deliverFee 8; totalPrice 37.9 = 68 − shopPart 30.1; income 25.42 is what
    the shop receives; deliveryGeo is 'lng,lat'; createdAt is Shanghai local time."""
    text = (ELEME / "wymenuv2_push_type10_envelope_2018.json").read_text("utf-8").strip()
    batch = run("eleme", text, {"0000000042"}, {"042674038320"})
    order = only_order(batch)
    lines = batch.lines.to_dicts()
    assert (order["order_key"], order["store_id"]) == ("eleme:3023315330813370439", "0000000042")
    assert (order["goods_amount"], order["delivery_fee"], order["packaging_fee"]) == (D("60.00"), D("8.00"), D("0.00"))
    assert (order["merchant_discount"], order["platform_discount"], order["paid_amount"]) == (
        D("30.10"),
        D("0"),
        D("37.90"),
    )
    assert order["merchant_receivable"] == D("25.42")
    assert [(ln["sku_id"], ln["channel_sku"], ln["quantity"], ln["unit_price"]) for ln in lines] == [
        ("042674038320", "200000203668448543", 1, D("60.00"))
    ]
    assert_amounts_add_up(order, lines)
    assert (order["phone"], order["phone_kind"], order["phone_last4"]) == ("15921567345", "mobile", "7345")
    assert order["address_raw"] == "静安区珠江创意中心(彭江路南)2号楼a101"
    assert (order["lat"], order["lng"]) == (31.28465, 121.4497059)
    assert order["created_at"] == dt.datetime(2018, 5, 16, 4, 59, 59)
    assert order["status"] == "paid"


def test_eleme_bare_order_message_and_unmapped_item() -> None:
    """The OOrder alone (no envelope) is read as the order: originalPrice 25.3 = 2 × 10 + deliverFee 5.3, paid
    15.31 after shopPart 9.99, income 5.01. Its item has no extendCode (the merchant never mapped it), so the
    order is quarantined as missing_field naming the line, never loaded with a guessed SKU."""
    text = (ELEME / "service-catering_note_order_1222507828638127147.json").read_text("utf-8").strip()
    extracted = ADAPTERS["eleme"].extract(RawRecord("orders/eleme/2026-12-01/real.jsonl", 1, text))
    assert {
        k: extracted.order[k]
        for k in (
            "channel_order_id",
            "store_id",
            "goods_amount",
            "delivery_fee",
            "merchant_discount",
            "paid_amount",
            "merchant_receivable",
        )
    } == {
        "channel_order_id": "1222507828638127147",
        "store_id": "201234Z1398",
        "goods_amount": "20",
        "delivery_fee": "5.3",
        "merchant_discount": "9.99",
        "paid_amount": "15.31",
        "merchant_receivable": "5.01",
    }
    assert [(ln["sku_id"], ln["quantity"], ln["paid_amount"]) for ln in extracted.lines] == [(None, "2", "20")]

    batch = run("eleme", text, {"201234Z1398"}, {"042674038320"})
    assert batch.orders.height == 0
    row = batch.quarantine.to_dicts()[0]
    assert row["error_code"] == "missing_field" and "line 1: item code is empty" in row["message"]
