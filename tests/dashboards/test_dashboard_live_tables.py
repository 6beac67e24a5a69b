"""The live page's table builders: rows from dashboards.queries in, formatted display frames out."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from dashboards.views import live


def test_channel_table_formats_and_leaves_undefined_rates_blank():
    """Money is ¥-formatted, counts get separators, and a channel without orders has no cancellation
    rate (a dash, not 0%)."""
    rows = [
        {
            "channel": "pos",
            "orders": 1300,
            "paid_amount": Decimal("1234567.8"),
            "cancelled_orders": 13,
            "delivery_orders": 0,
            "self_pickup_orders": 0,
            "in_store_orders": 1300,
        },
        {
            "channel": "eleme",
            "orders": 0,
            "paid_amount": Decimal("0"),
            "cancelled_orders": 0,
            "delivery_orders": 0,
            "self_pickup_orders": 0,
            "in_store_orders": 0,
        },
    ]
    frame = live.channel_table(rows, "zh")
    assert frame.to_dict("records") == [
        {
            "渠道": "门店POS",
            "订单数": "1,300",
            "实付金额": "¥1,234,567.80",
            "已取消": "13",
            "取消率": "1.0%",
            "配送": "0",
            "自提": "0",
            "到店": "1,300",
        },
        {
            "渠道": "饿了么",
            "订单数": "0",
            "实付金额": "¥0.00",
            "已取消": "0",
            "取消率": "—",
            "配送": "0",
            "自提": "0",
            "到店": "0",
        },
    ]


def test_exceptions_table_translates_codes():
    """Exception type, severity, channel and action are shown in the chosen language; codes the labels do
    not know are shown as they are."""
    row = {
        "raised_at_local": datetime(2026, 11, 26, 11, 15),
        "exception_type": "late_risk",
        "severity": "urgent",
        "channel": "app",
        "store_id": "SH003",
        "order_key": "app:A1",
        "action": "expedite_dispatch",
        "detail": "rider shortage",
        "exception_id": "E4",
    }
    assert live.exceptions_table([row], "en").to_dict("records") == [
        {
            "Raised at": "2026-11-26 11:15:00",
            "Type": "Late risk",
            "Severity": "urgent",
            "Channel": "App",
            "Store": "SH003",
            "Order key": "app:A1",
            "Action": "Expedite dispatch",
            "Detail": "rider shortage",
        }
    ]


def test_chart_frames_use_labels_and_local_hours():
    """Chart data is long format (time, channel label, orders) with translated column names."""
    rows = [{"hour_start_local": datetime(2026, 11, 26, 9), "channel": "meituan", "orders": 5}]
    assert live.hourly_chart_frame(rows, "zh").to_dict("records") == [{"小时": "09:00", "渠道": "美团", "订单数": 5}]
    assert list(live.recent_chart_frame([], "en").columns) == ["Minute", "Channel", "Orders"]
