"""Meituan and Eleme per-order settlement records (JSON lines).

Neither platform publishes a statement *file* layout: both expose settlement per order (Meituan's
`poi_receive_detail`, Eleme's `FinanceOrder`). Their statements land as one JSON object per order and
settlement entry, built from those structures with the platforms' own field names
(docs/landing-formats.md, "Settlement statements").

Meituan: every value a string like the order push; `poi_receive_detail` is JSON text in fen:
onlinePayment (the customer paid; negative on a refund), foodShareFeeChargeByPoi (commission),
wmPoiReceiveCent (what the merchant receives). settle_type 1 = payment, 2 = refund, 3 = adjustment.

Eleme FinanceOrder (camelCase, yuan): the customer paid foodAmount + packingFee + userPaidDeliveryFee −
merchantSubsidyAmount − elemeSubsidyAmount; commissionFee is the commission; checkoutAmount what the
merchant receives; detailType ORDER = payment, REFUND = refund (refundAmount), ADJUST = adjustment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ingestion.adapters.json_lines import embedded, record_object
from ingestion.records import RawRecord, RecordError, decode_text, jsonl_records
from ingestion.settlements.base import (
    ParsedLine,
    StatementLine,
    epoch_time,
    fen,
    local_time,
    parse_records,
    required,
    same_day,
    yuan,
)

MEITUAN_TYPES = {"1": "payment", "2": "refund", "3": "adjustment"}
ELEME_TYPES = {"ORDER": "payment", "REFUND": "refund", "ADJUST": "adjustment"}


def _typed(value: Any, types: dict[str, str], what: str) -> str:
    key = "" if value is None else str(value).strip()
    if key not in types:
        raise RecordError("bad_value", f"{what} '{key}' is not one of {', '.join(types)}")
    return types[key]


def _meituan_line(record: RawRecord, statement_date: dt.date) -> StatementLine:
    obj = record_object(record)
    same_day(obj.get("bill_date"), "bill_date", statement_date)
    line_type = _typed(obj.get("settle_type"), MEITUAN_TYPES, "settle_type")
    receive = embedded(obj.get("poi_receive_detail"), "poi_receive_detail", default=None)
    if not isinstance(receive, dict):
        raise RecordError("missing_field", "poi_receive_detail is missing or not a JSON object")
    order_id = required(obj.get("order_id"), "order_id")
    paid = fen(receive.get("onlinePayment"), "poi_receive_detail.onlinePayment")
    is_refund = line_type == "refund"
    return StatementLine(
        line_type=line_type,
        channel_order_id=order_id,
        order_key=f"meituan:{order_id}",
        transaction_id=required(obj.get("settle_bill_id"), "settle_bill_id"),
        store_id=(str(obj.get("app_poi_code") or "").strip() or None),
        account_id=(str(obj.get("app_poi_code") or "").strip() or None),
        gross_amount=Decimal("0.00") if is_refund else paid,
        refund_amount=-paid if is_refund else Decimal("0.00"),
        fee_amount=fen(receive.get("foodShareFeeChargeByPoi"), "poi_receive_detail.foodShareFeeChargeByPoi"),
        net_amount=fen(receive.get("wmPoiReceiveCent"), "poi_receive_detail.wmPoiReceiveCent"),
        settled_at=epoch_time(obj.get("settle_time"), "settle_time"),
    )


def _eleme_amount(obj: dict[str, Any], key: str) -> Decimal:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RecordError("missing_field" if value is None else "bad_value", f"{key} is missing or not a number")
    return yuan(str(value), key)


def _eleme_line(record: RawRecord, statement_date: dt.date) -> StatementLine:
    obj = record_object(record)
    same_day(obj.get("billDate"), "billDate", statement_date)
    line_type = _typed(obj.get("detailType"), ELEME_TYPES, "detailType")
    order_id = required(obj.get("orderId"), "orderId")
    a = {
        k: _eleme_amount(obj, k)
        for k in (
            "foodAmount",
            "packingFee",
            "userPaidDeliveryFee",
            "merchantSubsidyAmount",
            "elemeSubsidyAmount",
            "commissionFee",
            "checkoutAmount",
            "refundAmount",
        )
    }
    paid = (
        a["foodAmount"]
        + a["packingFee"]
        + a["userPaidDeliveryFee"]
        - a["merchantSubsidyAmount"]
        - a["elemeSubsidyAmount"]
    )
    completed = obj.get("completeAt") or obj.get("createAt")
    return StatementLine(
        line_type=line_type,
        channel_order_id=order_id,
        order_key=f"eleme:{order_id}",
        transaction_id=required(obj.get("transNo"), "transNo"),
        account_id=str(obj.get("shopId") or "").strip() or None,
        gross_amount=paid if line_type == "payment" else Decimal("0.00"),
        refund_amount=a["refundAmount"],
        fee_amount=a["commissionFee"],
        net_amount=a["checkoutAmount"],
        settled_at=local_time(completed, "completeAt", "%Y-%m-%dT%H:%M:%S"),
    )


def _jsonl(data: bytes, source_file: str) -> list[RawRecord]:
    return list(jsonl_records(decode_text(data, source_file), source_file))


def parse_meituan(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    return parse_records(_jsonl(data, source_file), lambda r: _meituan_line(r, statement_date))


def parse_eleme(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    return parse_records(_jsonl(data, source_file), lambda r: _eleme_line(r, statement_date))
