"""The inventory, dispatch and data quality pages beyond their first version, run with AppTest against the small
snapshot of dashboard_snapshots.py (numbers in its docstring)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from dashboard_snapshots import DQ_TABLES, Snapshot, publish, write_snapshot
from test_dashboard_pages import open_page, rerun, tiles

# --- inventory: SKUs at risk ----------------------------------------------------------------------------------


def test_skus_at_risk_by_cover_and_safety_stock(serving: Path):
    """A SKU still in stock but selling out within 4 hours at its pace since the count is at risk, with the
    numbers behind it; one at or below its safety stock is at risk whatever its pace (listed after, having no
    pace); SKUs with nothing left are not listed (they are out, shown above); the store filter applies."""
    at = open_page("stock")
    assert tiles(at)["缺货风险商品"] == "1"
    assert at.dataframe[4].value.to_dict("records") == [
        {
            "门店": "SH002",
            "商品编码": "SKU001",
            "商品": "红富士苹果 1kg",
            "品类": "水果",
            "可用": "18",
            "安全库存": "2",
            "盘点后售出": "92",
            "每小时售出": "18.4",
            "可售小时": "1.0",
            "风险": "不足 4 小时可卖",
        }
    ]
    snap = Snapshot()
    # SH001/SKU001: 2 left, nothing sold since the count, safety stock 2 (from the channel feed).
    snap.stock_positions[0] = (
        "SH001",
        "SKU001",
        "红富士苹果 1kg",
        "水果",
        "2026-11-25 22:00:00",
        2,
        0,
        0,
        0,
        0,
        2,
        0,
        0,
        "2026-11-26 02:30:00",
        "2026-11-26 02:59:30",
    )
    publish(serving, snap)
    rerun(at)
    assert tiles(at)["缺货风险商品"] == "2"
    risk = at.dataframe[4].value
    assert list(risk["商品编码"]) == ["SKU001", "SKU001"] and list(risk["门店"]) == ["SH002", "SH001"]
    assert list(risk["风险"])[1] == "不高于安全库存" and list(risk["可售小时"])[1] == "—"
    at.selectbox(key="stock_store").set_value("SH001")
    rerun(at)
    assert tiles(at)["缺货风险商品"] == "1" and list(at.dataframe[4].value["门店"]) == ["SH001"]


# --- dispatch: per store and wave against the greedy baseline ---------------------------------------------------


def test_dispatch_plans_per_store_and_wave_against_greedy(serving: Path):
    """Per store and wave (newest wave first): the chosen plan's trips, stops, distance and on-time rate next to
    the greedy baseline's distance and on-time rate, and how much shorter the plan is; the wave filter
    applies."""
    at = open_page("dispatch")
    plans = at.dataframe[5].value
    assert plans.to_dict("records") == [
        {
            "门店": "SH001",
            "波次": "10:30",
            "趟次": "1",
            "包裹": "1",
            "里程(公里)": "3.0",
            "贪心里程(公里)": "3.5",
            "里程节省": "14.3%",
            "准时率": "100.0%",
            "贪心准时率": "100.0%",
        },
        {
            "门店": "SH002",
            "波次": "10:30",
            "趟次": "1",
            "包裹": "2",
            "里程(公里)": "4.0",
            "贪心里程(公里)": "5.5",
            "里程节省": "27.3%",
            "准时率": "50.0%",
            "贪心准时率": "0.0%",
        },
        {
            "门店": "SH001",
            "波次": "10:00",
            "趟次": "1",
            "包裹": "2",
            "里程(公里)": "5.0",
            "贪心里程(公里)": "6.0",
            "里程节省": "16.7%",
            "准时率": "100.0%",
            "贪心准时率": "100.0%",
        },
    ]
    at.selectbox(key="dispatch_wave").select(next(w for w in at.selectbox(key="dispatch_wave").options if w == "10:00"))
    rerun(at)
    assert list(at.dataframe[5].value["门店"]) == ["SH001"]


# --- data quality: validation results (the dq_* tables) ------------------------------------------------------


def test_quality_page_shows_the_latest_validation_results(serving: Path):
    """Every expectation's latest result, failures first and critical first, with the observed value (a phone
    in it masked) and how often it failed; the verdict above; the recent validations newest first; the
    quarantine's status per reason and channel, most open first."""
    at = open_page("quality")
    assert [w.value for w in at.warning] == ["最新校验：4 条规则中 2 条未通过（严重 1 条），共 2 个套件。"]
    results, validations, status = (d.value for d in at.dataframe[3:])
    assert list(results["结果"]) == ["未通过", "未通过", "通过", "通过"]
    assert list(results["级别"])[:2] == ["严重", "警告"]
    assert list(results["范围"])[:2] == ["导入批次 · 美团", "导入批次 · 自营App"]
    assert results["实际值"].iloc[1] == '1 unexpected: ["138****5678"]'
    assert results["历史未通过"].iloc[1] == "2 / 3 次"
    assert list(validations["批次"]) == ["b-pos", "b-mt", "b-app"]
    assert validations["校验时间"].iloc[0] == "2026-11-26 10:59:40"
    assert status.to_dict("records")[0] == {
        "原因代码": "bad_amount",
        "渠道": "门店POS",
        "隔离": "12",
        "未处理": "10",
        "已重放解决": "1",
        "重放失败": "1",
        "最近出现": "2026-11-26 10:00:00",
    }


def test_quality_page_when_every_expectation_passes(serving: Path):
    """No failing expectation: a success line counting suites and expectations instead of a warning."""
    snap = Snapshot()
    snap.dq_summary = [row[:11] + (True,) + row[12:] for row in snap.dq_summary]
    publish(serving, snap)
    at = open_page("quality")
    assert "最新校验：2 个套件的 4 条规则全部通过。" in [s.value for s in at.success]
    assert not at.warning


def test_quality_page_before_any_validation(serving: Path):
    """A snapshot without the validation tables says there are no validation results yet (an info box) and shows
    the row accounting as before."""
    publish(serving, Snapshot(omit=DQ_TABLES))
    at = open_page("quality")
    assert [i.value for i in at.info] == [
        "还没有校验结果：数据快照中没有 dq_results_summary（数据质量校验套件运行后由 serving 发布步骤生成）。"
    ]
    assert len(at.dataframe) == 3 and tiles(at)["累计落地记录"] == "1,809" and not at.error


def test_quality_page_with_a_validation_table_missing_a_column(serving: Path):
    """A validation table without a column the page reads (the suites renamed one, say) is named in a warning;
    the other validation tables are still shown and nothing fails."""
    tmp = serving.with_name("altered.duckdb")
    write_snapshot(tmp, Snapshot())
    con = duckdb.connect(str(tmp))
    con.execute("ALTER TABLE dq_results_summary DROP COLUMN last_success")
    con.close()
    os.replace(tmp, serving)
    at = open_page("quality")
    assert any("`dq_results_summary.last_success`" in w.value for w in at.warning)
    assert len(at.dataframe) == 5 and not at.error  # accounting (3), validations, quarantine status
