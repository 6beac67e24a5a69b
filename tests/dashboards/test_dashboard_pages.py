"""Every page of the app run with Streamlit's AppTest against the small snapshot of
dashboard_snapshots.py, whose numbers are listed in that module's docstring."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from dashboard_snapshots import PAGE_TABLES, Snapshot, publish
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
PAGES = ("live", "exceptions", "parcels", "stock", "dispatch", "reconciliation", "quality")
RAW_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RAW_NAMES = ("张伟", "李娜", "王芳", "王秀英")


def open_page(page: str, at: AppTest | None = None) -> AppTest:
    """Run the app (first time) and switch to ``views/<page>.py``; no exception allowed."""
    if at is None:
        at = AppTest.from_file(APP, default_timeout=20)
        at.run()
    at.switch_page(f"views/{page}.py")
    return rerun(at)


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # An app script that fails before it runs (it does not compile) leaves AppTest no exception element, only
    # an empty page.
    assert at.main.children and at.sidebar.children, "the app rendered nothing"
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown_text(at: AppTest) -> str:
    """Everything a person can read on the page: texts, tile labels, values and help, table cells, the
    map's data (tooltips)."""
    parts = [
        e.value
        for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error")
        for e in getattr(at, kind)
    ]
    parts += [f"{m.label} {m.value} {m.proto.help}" for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe]
    parts += [json.dumps(json.loads(deck.proto.json), ensure_ascii=False) for deck in at.get("deck_gl_json_chart")]
    return "\n".join(str(p) for p in parts)


def deck_spec(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


# --- navigation -----------------------------------------------------------------------------------------------


def test_navigation_has_every_page_in_both_languages():
    """The sidebar lists the seven pages under five sections with fixed URLs, each backed by a file under
    views/, titled in both languages."""
    from dashboards.app import SECTIONS
    from dashboards.i18n import t

    entries = [entry for section in SECTIONS.values() for entry in section]
    assert [url for *_, url in entries] == list(PAGES)
    assert all((APP.parent / file).is_file() for file, *_ in entries)
    assert [t(section, "zh") for section in SECTIONS] == ["运营", "库存", "配送", "财务", "数据质量"]
    assert [t(title, "en") for _, title, *_ in entries][4] == "Rider dispatch map"


def test_pages_are_compiled_without_streamlit_magic(serving: Path, monkeypatch: pytest.MonkeyPatch):
    """The project's .streamlit/config.toml turns magic off, so a page is compiled from its source and never
    parsed into Python AST objects in the script thread: on Python 3.11 such a parse can collide with another
    thread's and fail the page (cpython#106905, once in CI)."""
    from streamlit.runtime.scriptrunner import magic

    parsed: list[str] = []
    monkeypatch.setattr(magic, "add_magic", lambda code, script_path: parsed.append(script_path) or code)
    for page in PAGES:
        open_page(page)
    assert parsed == []


# --- masking on every page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_phone_number_or_a_full_name(serving: Path, page: str):
    """Phones (in exception details, a dispatch exception, a statement's explanation) and people's names
    (riders, a group-buy leader) are in the snapshot; no page shows them unmasked."""
    text = shown_text(open_page(page))
    assert not RAW_PHONE.findall(text), RAW_PHONE.findall(text)
    assert not [name for name in RAW_NAMES if name in text]


def test_masked_values_are_shown(serving: Path):
    """Masking keeps what operators need: 138****5678 on the exceptions page, 张* in the rider table and
    on the map, 王** for the group-buy leader."""
    at = open_page("exceptions")
    assert "138****5678" in "\n".join(at.dataframe[1].value["详情"])
    at = open_page("dispatch", at)
    assert "张*" in list(at.dataframe[3].value["骑手"])
    assert "张*" in list(at.dataframe[0].value["骑手"])
    assert "SH001 · 张*" in [route["title"] for route in deck_spec(at)["layers"][0]["data"]]
    at = open_page("reconciliation", at)
    variances = at.dataframe[1].value
    assert "王**" in list(variances["账户"])
    assert "团长王**（139****5678）结算行没有对应订单" in list(variances["说明"])


# --- "no data yet" --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(PAGE_TABLES))
def test_page_without_its_tables_says_no_data_yet(serving: Path, page: str):
    """A snapshot published before another part of the pipeline produced a page's tables (reconciliation
    runs daily, dispatch after its first plan): the page names the missing tables in an info box, with no
    error and no exception."""
    publish(serving, Snapshot(omit=PAGE_TABLES[page]))
    at = open_page(page)
    assert not at.error and not at.metric
    assert len(at.info) == 1
    message = at.info[0].value
    assert message.startswith("暂无数据") and f"`{PAGE_TABLES[page][0]}`" in message


def test_pages_before_the_first_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Without any snapshot every page says so (info naming the path) instead of failing."""
    monkeypatch.setenv("ORDERHUB_SERVING", str(tmp_path / "none" / "serving.duckdb"))
    at = None
    for page in PAGES[1:]:
        at = open_page(page, at)
        assert len(at.info) == 1 and "serving.duckdb" in at.info[0].value, page
        assert not at.error


# --- exceptions -----------------------------------------------------------------------------------------------


def test_exceptions_page_lists_open_problems_newest_first(serving: Path):
    """Open problems only (E1 was resolved), the dispatch plan's included, counted by type; newest first in
    Shanghai time; the type filter narrows the list."""
    at = open_page("exceptions")
    assert tiles(at) == {"未处理异常": "4", "高优先级": "2", "异常类型数": "4"}
    listed = at.dataframe[1].value
    assert list(listed["订单号"]) == ["app:APP2026112600042", "meituan:M9", "eleme:5001", "app:APP2026112600007"]
    assert list(listed["发生时间"])[:2] == ["2026-11-26 11:15:00", "2026-11-26 10:40:00"]
    assert list(listed["来源"]) == ["订单", "调度", "订单", "订单"]
    assert listed["处理动作"].iloc[1] == "安排带冷箱骑手"

    at.selectbox(key="exc_type").set_value("late_risk")
    rerun(at)
    assert list(at.dataframe[1].value["订单号"]) == ["app:APP2026112600042"]
    assert tiles(at)["未处理异常"] == "4"  # the tiles count everything open


# --- parcels --------------------------------------------------------------------------------------------------


def test_parcels_page_shows_what_merging_saved(serving: Path):
    """The latest day only (the day before is not added in): parcels sent against parcels without merging
    under the same split rules, and the saving as a share of the latter."""
    at = open_page("parcels")
    assert tiles(at) == {
        "配送订单": "150",
        "合单订单": "24",
        "实际包裹": "200",
        "合单节省包裹": "15",
        "拆包的合单组": "55",
    }
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["合单订单"].startswith("合单率 16.0%")
    assert "节省 7.0%" in helps["合单节省包裹"]
    assert "按温区拆 53 组" in helps["拆包的合单组"]
    stores = at.dataframe[0].value
    assert list(stores["门店"]) == ["SH001", "SH002"]
    assert list(stores["节省比例"]) == ["8.5%", "4.1%"]
    assert len(at.get("vega_lite_chart")) == 1


# --- stock ----------------------------------------------------------------------------------------------------


def test_stock_page_tiles_tables_and_store_filter(serving: Path):
    """Positions, out-of-stock and oversold counts, open oversells; the most oversold SKU first; the channel
    feed per channel; choosing a store narrows tiles and lists to it."""
    at = open_page("stock")
    assert tiles(at) == {
        "门店商品数": "5",
        "无可售库存": "3",
        "超卖商品": "2",
        "未解决超卖单": "2",
        "缺货风险商品": "1",
    }
    assert {m.label: m.proto.help for m in at.metric}["超卖商品"] == "共超卖 4 件"
    by_store, short, feed, oversells, _at_risk = (d.value for d in at.dataframe)
    assert list(by_store["未解决超卖"]) == ["2", "0"]
    assert list(short["商品编码"]) == ["SKU002", "SKU004", "SKU003"]
    assert list(short["品类"]) == ["乳品", "速冻", "水产"]
    assert feed.to_dict("records") == [
        {"渠道": "美团", "分配方式": "共享库存池", "上架商品": "3", "售罄": "1", "可售件数": "17"},
        {"渠道": "社区团购", "分配方式": "固定份额 20.0%", "上架商品": "3", "售罄": "1", "可售件数": "4"},
    ]
    assert list(oversells["状态"]) == ["未解决", "未解决", "已解决 2026-11-26 12:00:00"]

    at.selectbox(key="stock_store").set_value("SH002")
    rerun(at)
    assert tiles(at) == {
        "门店商品数": "2",
        "无可售库存": "1",
        "超卖商品": "1",
        "未解决超卖单": "0",
        "缺货风险商品": "1",
    }
    assert list(at.dataframe[1].value["商品编码"]) == ["SKU004"]


# --- dispatch -------------------------------------------------------------------------------------------------


def test_dispatch_tiles_compare_with_the_greedy_baseline(serving: Path):
    """The latest planned day for PyVRP: trips, stops, distance (with the greedy baseline and the saving),
    on-time rate and parcels not dispatched; a route of the day before is not counted."""
    at = open_page("dispatch")
    assert tiles(at) == {
        "在途骑手": "2",
        "门店待命骑手": "1",
        "门店待发包裹": "2",
        "今日至今准时率": "80.0%",
        "今日至今里程": "12.0 km",
        "骑手趟次": "3",
        "配送包裹": "5",
        "总里程": "12.0 km",
        "准时率": "80.0%",
        "未派出包裹": "1",
    }
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["总里程"] == "贪心基线 15.0 km；节省 20.0%"
    assert helps["准时率"] == "预计迟到 1 单"
    solvers = at.dataframe[2].value
    assert list(solvers["求解器"]) == ["PyVRP 优化", "贪心基线"]
    assert list(solvers["未派出"]) == ["1", "2"]
    unassigned = at.dataframe[4].value
    assert unassigned.to_dict("records") == [
        {"门店": "SH002", "包裹": "P9", "原因": "无带冷箱骑手", "可出库": "10:40", "承诺送达": "11:20"}
    ]


def test_dispatch_shows_the_plan_as_of_now(serving: Path):
    """As of the plan's clock: riders out with their stops left and ETAs, the idle one with its next trip; the
    parcels waiting with why, the late one marked; the day so far against greedy; the parcels Meituan's riders
    deliver named as skipped."""
    at = open_page("dispatch")
    assert any("10:40" in h.value for h in at.subheader)
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["门店待发包裹"] == "其中 1 个已过承诺时间"
    assert helps["今日至今准时率"] == "已出发趟次；贪心基线：准时率 60.0%，里程 15.0 km"
    riders = at.dataframe[0].value
    assert riders.to_dict("records") == [
        {"门店": "SH001", "骑手": "李*", "状态": "配送中", "至": "11:00", "剩余包裹": "1", "下一站预计": "10:45",
         "末站预计": "10:45"},
        {"门店": "SH002", "骑手": "王*", "状态": "配送中", "至": "11:10", "剩余包裹": "2", "下一站预计": "10:45",
         "末站预计": "11:05"},
        {"门店": "SH001", "骑手": "张*", "状态": "门店待命", "至": "10:50", "剩余包裹": "—", "下一站预计": "—",
         "末站预计": "—"},
    ]  # fmt: skip
    waiting = at.dataframe[1].value
    assert waiting.to_dict("records") == [
        {"门店": "SH001", "包裹": "P8", "原因": "等待合单同行", "至": "10:50", "可出库": "10:20", "承诺送达": "10:30",
         "已超时": "●"},
        {"门店": "SH002", "包裹": "P9", "原因": "无带冷箱骑手", "至": "—", "可出库": "10:40", "承诺送达": "11:20",
         "已超时": ""},
    ]  # fmt: skip
    assert any("2 × 平台骑手配送" in c.value for c in at.caption)


def test_dispatch_page_without_the_view_of_now(serving: Path):
    """A snapshot from before the plan kept riders' states still shows the day's plan, and says why there is
    no view of now."""
    publish(serving, Snapshot(omit=("dispatch_riders", "dispatch_waiting", "dispatch_skipped")))
    at = open_page("dispatch")
    assert not at.exception
    assert tiles(at)["总里程"] == "12.0 km"
    assert any("没有“当前”视图" in c.value for c in at.caption)


def test_dispatch_map_draws_routes_from_the_store_in_stop_order(serving: Path):
    """Each route's path starts at its store and visits the stops by seq; destinations are coloured by
    on-time (the late one red); stores are drawn; no base map is requested (map style left unset)."""
    at = open_page("dispatch")
    spec = deck_spec(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    paths = {p["route_id"]: p["path"] for p in layers["routes"]["data"]}
    assert paths == {
        "pyvrp/SH001/1000/R1": [[121.5903, 31.2035], [121.6, 31.21], [121.61, 31.22]],
        "pyvrp/SH001/1030/R2": [[121.5903, 31.2035], [121.58, 31.195]],
        "pyvrp/SH002/1030/R3": [[121.5534, 31.2158], [121.54, 31.225], [121.53, 31.23]],
    }
    colours = [d["color"] for d in layers["destinations"]["data"]]
    assert colours.count([220, 38, 38]) == 1 and len(colours) == 5
    assert [s["title"] for s in layers["stores"]["data"]] == ["SH001", "SH002"]
    assert spec.get("mapStyle") in (None, "__MAP_STYLE__")
    assert 121.53 < spec["initialViewState"]["longitude"] < 121.61


def test_dispatch_filters_solver_wave_and_store(serving: Path):
    """Choosing the greedy plan shows its numbers; a wave shows only that wave's routes; a store only its
    routes and parcels."""
    at = open_page("dispatch")
    at.selectbox(key="dispatch_solver").set_value("greedy")
    rerun(at)
    assert tiles(at)["总里程"] == "15.0 km" and tiles(at)["未派出包裹"] == "2"
    at.selectbox(key="dispatch_solver").set_value("pyvrp")
    rerun(at)
    wave = next(w for w in at.selectbox(key="dispatch_wave").options if w == "10:00")
    at.selectbox(key="dispatch_wave").select(wave)
    rerun(at)
    assert list(at.dataframe[3].value["波次"]) == ["10:00"]
    assert [p["route_id"] for p in deck_spec(at)["layers"][0]["data"]] == ["pyvrp/SH001/1000/R1"]
    at.selectbox(key="dispatch_wave").select(None)
    at.selectbox(key="dispatch_store").set_value("SH002")
    rerun(at)
    assert list(at.dataframe[3].value["骑手"]) == ["王*"]


def test_dispatch_page_in_english(serving: Path):
    """The English switch translates the dispatch page's texts and codes; the numbers stay."""
    at = AppTest.from_file(APP, default_timeout=20)
    at.run()
    at.sidebar.toggle[0].set_value(True)
    at = open_page("dispatch", at)
    assert at.title[0].value == "Rider dispatch map"
    assert tiles(at)["Distance"] == "12.0 km"
    assert list(at.dataframe[4].value["Reason"]) == ["No rider with a cold box"]
    assert list(at.dataframe[1].value["Reason"]) == ["Held for bundling", "No rider with a cold box"]


# --- reconciliation -------------------------------------------------------------------------------------------


def test_reconciliation_page_for_the_latest_day(serving: Path):
    """The latest recon day by default: channels balanced / with variances / without a statement, money at
    stake and settled; the six statement channels in a fixed order; variances largest first (a matched line
    is not listed); the T+1 payout of the day's statements."""
    at = open_page("reconciliation")
    assert at.subheader[0].value == "对账日 2026-11-25"
    assert tiles(at) == {
        "已平账渠道": "2",
        "有差异渠道": "3",
        "账单未到或不完整": "1",
        "差异金额（绝对值）": "¥75.46",
        "账单结算净额": "¥11,300.00",
    }
    assert {m.label: m.proto.help for m in at.metric}["差异金额（绝对值）"] == "净差异 -¥15.46；4 笔差异"
    channels, variances, settlement = (d.value for d in at.dataframe)
    assert list(channels["结算渠道"]) == ["美团", "饿了么", "微信支付", "支付宝", "门店POS", "社区团购"]
    assert list(channels["状态"]) == ["有差异", "已平账", "已平账", "未收到账单", "有差异", "有差异"]
    assert list(variances["差异金额"]) == ["-¥35.50", "¥25.00", "-¥9.96", "¥5.00"]
    assert list(variances["差异类型"]) == ["金额不符", "无对应订单", "收款方式合计不符", "手续费不符"]
    assert settlement.to_dict("records")[2] == {
        "结算渠道": "门店POS",
        "到账日": "2026-11-26",
        "收款行": "8",
        "退款行": "0",
        "交易额": "¥1,505.00",
        "退款额": "¥0.00",
        "手续费": "¥5.00",
        "净额": "¥1,500.00",
        "账单声明净额": "¥1,490.00",
        "合计一致": "否",
    }


def test_reconciliation_day_can_be_chosen(serving: Path):
    """Picking an earlier recon day shows that day's numbers."""
    at = open_page("reconciliation")
    at.selectbox(key="recon_date").select_index(1)
    rerun(at)
    assert at.subheader[0].value == "对账日 2026-11-24"
    assert tiles(at)["有差异渠道"] == "1" and tiles(at)["差异金额（绝对值）"] == "¥5.00"
    assert "当日没有差异。" in [c.value for c in at.caption]  # the snapshot holds no variance line that day


# --- data quality ---------------------------------------------------------------------------------------------


def test_quality_page_accounts_for_every_batch(serving: Path):
    """All batches (not just today's): landed, quarantine rate, duplicates, unbalanced batches; a balanced
    history says so; reference loads are listed after the order channels."""
    at = open_page("quality")
    assert tiles(at) == {"累计落地记录": "1,809", "隔离率": "0.9%", "重复推送": "4", "不平衡批次": "0"}
    assert at.success[0].value.startswith("全部 5 个导入批次记账平衡")
    channels = at.dataframe[0].value
    assert list(channels["渠道"]) == ["自营App", "美团", "门店POS", "reference/products"]
    assert channels["落地"].iloc[0] == "1,125"

    snap = Snapshot()
    snap.ingest.append(("b-bad", "eleme", 1, 10, 7, 1, 0, "2026-11-26 04:00:00", None, False))
    publish(serving, snap)
    rerun(at)
    assert tiles(at)["不平衡批次"] == "1" and at.warning


def test_dispatch_wave_no_longer_planned_falls_back_to_all_waves(serving: Path):
    """A wave chosen on the page that a newer plan no longer has (replanned) does not leave an empty map:
    the page shows all waves of the new plan."""
    at = open_page("dispatch")
    at.selectbox(key="dispatch_wave").select(datetime(2026, 11, 26, 10, 0))
    rerun(at)
    assert list(at.dataframe[3].value["波次"]) == ["10:00"]
    snap = Snapshot()
    snap.routes = [r for r in snap.routes if not r[0].startswith("pyvrp/SH001/1000/")]
    snap.stops = [s for s in snap.stops if not s[0].startswith("pyvrp/SH001/1000/")]
    publish(serving, snap)
    rerun(at)
    assert list(at.dataframe[3].value["波次"]) == ["10:30", "10:30"]
    assert len(deck_spec(at)["layers"][0]["data"]) == 2
