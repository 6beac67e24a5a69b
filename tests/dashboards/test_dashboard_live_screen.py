"""The live page as a big screen: headline tiles, orders per minute, the map of stores, riders,
destinations and planned routes, and big-screen mode; run with AppTest against the small snapshot of
dashboard_snapshots.py (numbers in its docstring)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from dashboard_snapshots import DAY, PAGE_TABLES, Snapshot, publish
from streamlit.testing.v1 import AppTest
from test_dashboard_pages import APP, deck_spec, tiles

from dashboards.views import live


def run(at: AppTest | None = None) -> AppTest:
    # (an AppTest that has not run yet is falsy: test for None, not truth)
    at = AppTest.from_file(APP, default_timeout=20) if at is None else at
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str, str]]:
    """label -> (value, delta, help) of every tile."""
    return {m.label: (m.value, m.proto.delta, m.proto.help) for m in at.metric}


def layers(at: AppTest) -> dict[str, list[dict]]:
    return {layer["id"]: layer["data"] for layer in deck_spec(at)["layers"]}


def test_headline_tiles_match_the_snapshot(serving: Path):
    """The big-screen row shows the business day's orders, parcels sent, parcels saved by merging (with the
    share saved visible as the delta), on-time fulfilment (on time / due, the day before not counted) and the
    exception rate (orders with an exception / orders), each with its counts in the visible delta or help."""
    at = run()
    shown = metrics(at)
    assert list(shown)[:5] == ["订单数", "包裹数", "合单节省包裹", "准时履约率", "异常率"]
    assert shown["包裹数"][0] == "200" and "不合单时为 215 个" in shown["包裹数"][2]
    assert shown["合单节省包裹"][:2] == ("15", "7.0%")
    assert shown["准时履约率"][:2] == ("92.0%", "准时 69 / 到期 75")
    assert "按时送达 69，迟到送达 5，超时未送达 1" in shown["准时履约率"][2]
    assert shown["异常率"][:2] == ("0.6%", "3 单有异常")
    assert "其中 3 单仍未处理" in shown["异常率"][2]


def test_exception_rate_counts_each_order_once(serving: Path):
    """Two problems on one order count once in the rate (the exception tile still counts problems), and a
    resolved one counts but not as open."""
    snap = Snapshot()
    snap.exceptions.append(
        (
            "E5",
            "price_mismatch",
            "medium",
            "eleme:5001",
            "eleme",
            "SH001",
            "2026-11-26 02:05:00",
            "paid 3.33 too little",
            "manual_review",
            "2026-11-26 02:30:00",
        )
    )
    snap.exceptions.append(
        (
            "E6",
            "bad_address",
            "medium",
            "app:APP2026112600099",
            "app",
            "SH002",
            "2026-11-26 02:10:00",
            "address not geocoded",
            "contact_customer",
            "2026-11-26 02:20:00",
        )
    )
    publish(serving, snap)
    shown = metrics(run())
    assert shown["异常数"][0] == "5"
    assert shown["异常率"][:2] == ("0.8%", "4 单有异常")
    assert "其中 3 单仍未处理" in shown["异常率"][2]


def test_tiles_the_snapshot_cannot_fill_say_why(serving: Path):
    """A snapshot published before the big-screen tables existed (no fulfilment_daily) and a day without parcel
    figures: those tiles show a dash and their help says what is missing; the rest of the page is unaffected."""
    snap = Snapshot(omit=("fulfilment_daily",))
    snap.merge_savings = [row for row in snap.merge_savings if row[0] != DAY]
    publish(serving, snap)
    at = run()
    shown = metrics(at)
    assert shown["包裹数"][0] == "—" and shown["包裹数"][2] == "本营业日还没有包裹数据"
    assert shown["合单节省包裹"][0] == "—"
    assert shown["准时履约率"][0] == "—" and "fulfilment_daily" in shown["准时履约率"][2]
    assert tiles(at)["订单数"] == "500" and not at.error


def test_orders_per_minute_cover_the_whole_hour():
    """The per-minute chart has every minute of the last hour for every channel with orders in it, zeros
    included (a quiet minute is a visible gap, not a line drawn across it), the orders summed per minute."""
    rows = [
        {"minute_local": datetime(2026, 11, 26, 10, 58), "channel": "app", "orders": 3},
        {"minute_local": datetime(2026, 11, 26, 10, 59), "channel": "app", "orders": 4},
        {"minute_local": datetime(2026, 11, 26, 10, 59), "channel": "meituan", "orders": 2},
    ]
    frame = live.recent_chart_frame(rows, "zh")
    assert len(frame) == 60 * 2
    assert frame["分钟"].min() == datetime(2026, 11, 26, 10, 0) and frame["分钟"].max() == datetime(
        2026, 11, 26, 10, 59
    )
    assert frame.groupby("渠道")["订单数"].sum().to_dict() == {"自营App": 7, "美团": 2}
    early = live.recent_chart_frame([{**rows[0], "minute_local": datetime(2026, 11, 26, 0, 4)}], "zh")
    assert len(early) == 5  # not before the business day's midnight


def test_charts_are_stacked_bars(serving: Path):
    """Both order charts (per minute, per hour) are bar charts stacked by channel."""
    at = run()
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert len(specs) == 2
    assert all("bar" in json.dumps(spec.get("mark", spec.get("layer"))) for spec in specs)


def test_map_shows_stores_riders_destinations_and_planned_routes(serving: Path):
    """At the data's now (10:59:30 Shanghai) the map shows the routes still out (the 10:30 wave; the 10:00
    route came back at 10:40), their destinations (the late one red), every store, and each rider where the
    plan has them: R2 returning, 29/30 of the way from P3 to its store; R3 between P4 and P5. Names masked."""
    at = run()
    shown = layers(at)
    assert [p["route_id"] for p in shown["routes"]] == ["pyvrp/SH001/1030/R2", "pyvrp/SH002/1030/R3"]
    assert [d["title"] for d in shown["destinations"]] == ["#1 P3", "#1 P4", "#2 P5"]
    assert [d["color"] for d in shown["destinations"]].count([220, 38, 38]) == 1
    assert [s["title"] for s in shown["stores"]] == ["SH001", "SH002"]
    riders = {r["route_id"]: r for r in shown["riders"]}
    r2, r3 = riders["pyvrp/SH001/1030/R2"], riders["pyvrp/SH002/1030/R3"]
    assert (r2["title"], r2["state"], r3["title"], r3["state"]) == (
        "李* · SH001",
        "returning",
        "王* · SH002",
        "delivering",
    )
    assert r2["position"] == pytest.approx(
        [121.58 + (121.5903 - 121.58) * 29 / 30, 31.195 + (31.2035 - 31.195) * 29 / 30]
    )
    assert r3["position"] == pytest.approx([121.54 - 0.01 * 0.725, 31.225 + 0.005 * 0.725])
    assert r3["detail"] == "配送中 · 预计 11:10 返回"
    assert any("2 条路线在途或待出发" in c.value for c in at.caption)


def test_map_after_the_last_route_shows_the_latest_wave(serving: Path):
    """When no route is out any more (a finished or replayed day) the map shows the latest wave's routes,
    says so, and puts their riders back at the store."""
    publish(serving, Snapshot(latest_order_at=datetime(2026, 11, 26, 5, 0)))
    at = run()
    shown = layers(at)
    assert [p["route_id"] for p in shown["routes"]] == ["pyvrp/SH001/1030/R2", "pyvrp/SH002/1030/R3"]
    assert {r["state"] for r in shown["riders"]} == {"back"}
    assert shown["riders"][0]["position"] == [121.5903, 31.2035]
    assert any("没有在途路线，显示最近一个波次（10:30）" in c.value for c in at.caption)


def test_map_without_a_dispatch_plan(serving: Path):
    """Before dispatch has planned, the live page says there is no plan yet instead of a map; no error."""
    publish(serving, Snapshot(omit=PAGE_TABLES["dispatch"]))
    at = run()
    assert not at.get("deck_gl_json_chart") and not at.error
    assert any(c.value.startswith("还没有调度计划") for c in at.caption)


def test_big_screen_mode_from_the_url_and_the_sidebar(serving: Path):
    """?wall=true opens the live page in big-screen mode: the five headline tiles, both charts, the map and
    the ten newest exceptions, the stamp as a heading; no money/ingest tiles, per-channel or ingest tables. The
    mode survives the language switch and the sidebar toggle turns it off again."""
    snap = Snapshot()
    snap.exceptions += [
        (
            f"X{i}",
            "late_risk",
            "high",
            f"app:X{i}",
            "app",
            "SH001",
            f"2026-11-26 01:{i:02d}:00",
            "rider shortage",
            "expedite_dispatch",
            None,
        )
        for i in range(12)
    ]
    publish(serving, snap)
    at = AppTest.from_file(APP, default_timeout=20)
    at.query_params["wall"] = "true"
    run(at)
    assert at.sidebar.toggle[1].value is True
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    assert at.get("deck_gl_json_chart") and len(at.get("vega_lite_chart")) == 2
    assert list(tiles(at)) == ["订单数", "包裹数", "合单节省包裹", "准时履约率", "异常率"]
    assert at.markdown[0].value.startswith("#### 最后更新：")
    at.sidebar.toggle[0].set_value(True)  # English
    run(at)
    assert at.title[0].value == "Live operations" and len(at.dataframe) == 1
    at.sidebar.toggle[1].set_value(False)
    run(at)
    assert len(at.dataframe) == 4 and len(at.metric) == 10


def test_settlement_statement_batches_are_not_order_records(serving: Path):
    """Settlement statements the pipeline loads (channel 'settlement/<provider>') are neither counted in the
    loaded / quarantined tiles nor listed as an order channel; they get their own line, like reference data."""
    snap = Snapshot()
    snap.ingest.append(
        ("b-stl", "settlement/alipay", 1, 230, 229, 1, 0, "2026-11-26 03:00:00", "2026-11-26 03:00:02", True)
    )
    publish(serving, snap)
    at = run()
    assert (tiles(at)["已入库记录"], tiles(at)["隔离记录"]) == ("500", "5")
    assert "settlement/alipay" not in list(at.dataframe[1].value["渠道"])
    assert "结算对账单（1 个批次）：落地 230，入库 229，隔离 1，重复 0" in [c.value for c in at.caption]
