"""The app (entry point app.py, landing on the live page) run with Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from dashboard_snapshots import Snapshot, publish, utc_now
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"

TILES_ZH = {
    "订单数": "500",
    "实付金额": "¥1,242,346.14",
    "取消率": "2.4%",
    "异常数": "3",
    "已入库记录": "500",
    "隔离记录": "5",
    # the big-screen row (numbers in dashboard_snapshots.py's docstring)
    "包裹数": "200",
    "合单节省包裹": "15",
    "准时履约率": "92.0%",
    "异常率": "0.6%",
}


def run_app(at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=20)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_tiles_show_the_snapshot(serving: Path):
    """The metric tiles show the latest business day's totals from the snapshot, money as ¥ with 2
    decimals and thousands separators, the rate with 1 decimal."""
    at = run_app()
    assert tiles(at) == TILES_ZH
    assert at.subheader[0].value == "营业日 2026-11-26"
    assert not at.error and not at.warning


def test_tables_and_charts(serving: Path):
    """The page shows both charts and the four tables, with Chinese channel names, formatted money and the
    newest exception first in Shanghai time; reference-data loads get their own line."""
    at = run_app()
    assert "参考数据（1 个批次）：落地 300，入库 299，隔离 1，重复 0" in [c.value for c in at.caption]
    assert len(at.get("vega_lite_chart")) == 2
    channels, ingest, quarantine, exceptions = (d.value for d in at.dataframe)
    assert list(channels["渠道"]) == ["自营App", "微信小程序", "美团", "饿了么", "门店POS", "社区团购"]
    assert channels["实付金额"].iloc[4] == "¥1,234,567.89"
    assert ingest["隔离"].iloc[0] == "3"
    assert quarantine["原因代码"].iloc[0] == "bad_amount"
    assert exceptions["订单号"].iloc[0] == "app:APP2026112600042"
    assert exceptions["发生时间"].iloc[0] == "2026-11-26 11:15:00"
    assert exceptions["类型"].iloc[0] == "超时风险"


def test_english_switch(serving: Path):
    """The sidebar's English toggle switches titles, tile labels, channel names and column headers; the
    numbers stay the same."""
    at = run_app()
    assert at.title[0].value == "实时运营"
    at.sidebar.toggle[0].set_value(True)
    run_app(at)
    assert at.title[0].value == "Live operations"
    assert tiles(at) == dict(
        zip(
            [
                "Orders",
                "Paid amount",
                "Cancellation rate",
                "Exceptions",
                "Records loaded",
                "Records quarantined",
                "Parcels",
                "Saved by merging",
                "Delivered on time",
                "Exception rate",
            ],
            TILES_ZH.values(),
            strict=True,
        )
    )
    assert "Meituan" in list(at.dataframe[0].value["Channel"])
    assert at.markdown[0].value.startswith("Last updated")


def test_missing_snapshot_shows_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Before the pipeline's first publish the page says so in an info message, without error or tiles."""
    missing = tmp_path / "nowhere" / "serving.duckdb"
    monkeypatch.setenv("ORDERHUB_SERVING", str(missing))
    at = run_app()
    assert len(at.info) == 1 and str(missing) in at.info[0].value
    assert not at.error and not at.metric


def test_first_publish_appears_on_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A page opened before the first publish shows the data on its next refresh after it."""
    path = tmp_path / "serving.duckdb"
    monkeypatch.setenv("ORDERHUB_SERVING", str(path))
    at = run_app()
    assert at.info and not at.metric
    publish(path, Snapshot())
    run_app(at)
    assert tiles(at) == TILES_ZH and not at.info


def test_new_publish_is_picked_up_and_unchanged_snapshot_is_not_requeried(
    serving: Path, count_snapshot_opens: Callable[[], int]
):
    """Results are cached by the file's version: reruns on an unchanged snapshot (also from another
    session) do not open it again; a snapshot published with os.replace is read on the very next run."""
    at = run_app()
    assert count_snapshot_opens() == 1
    run_app(at)
    run_app()  # a second session
    assert count_snapshot_opens() == 1
    assert tiles(at)["订单数"] == "500"

    snap = Snapshot(run_id="run-002")
    snap.daily[0] = ("2026-11-26", "app", 220, 6, "5567.80", 200, 20, 0)
    publish(serving, snap)
    run_app(at)
    assert count_snapshot_opens() == 2
    assert tiles(at)["订单数"] == "600"
    assert tiles(at)["实付金额"] == "¥1,243,346.14"
    assert "`run-002`" in at.caption[0].value


def test_stamp_turns_red_when_snapshot_is_old(serving: Path, monkeypatch: pytest.MonkeyPatch):
    """ "Last updated" is plain while the snapshot is fresh, red once older than 60 s, and the threshold
    follows ORDERHUB_STALE_AFTER_SECONDS."""
    at = run_app()
    stamp = at.markdown[0].value
    assert stamp.startswith("最后更新：") and stamp.endswith("秒前") and ":red[" not in stamp

    publish(serving, Snapshot(published_at=utc_now() - timedelta(minutes=10)))
    run_app(at)
    assert at.markdown[0].value == ":red[**最后更新：10 分钟前**]"

    monkeypatch.setenv("ORDERHUB_STALE_AFTER_SECONDS", "3600")
    run_app(at)
    assert at.markdown[0].value == "最后更新：10 分钟前"


def test_unbalanced_batches_raise_a_warning(serving: Path):
    """An ingest batch whose counts do not balance is flagged under the tiles."""
    snap = Snapshot()
    snap.ingest.append(("b-bad", "eleme", 1, 10, 7, 1, 0, "2026-11-26 04:00:00", None, False))
    publish(serving, snap)
    at = run_app()
    assert len(at.warning) == 1 and "1 个导入批次记账不平衡" in at.warning[0].value


def test_snapshot_without_orders(serving: Path):
    """A published but still empty snapshot shows the stamp and a 'no orders yet' message, no tiles."""
    publish(serving, Snapshot(daily=[], hourly=[], minutely=[], ingest=[], exceptions=[], quarantine=[]))
    at = run_app()
    assert [i.value for i in at.info] == ["数据快照中还没有订单。"]
    assert not at.metric and at.markdown[0].value.startswith("最后更新")


def test_unreadable_snapshot_shows_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A file that is not a serving snapshot (here: a DuckDB file without its tables) gives an error
    message naming the file, not a traceback."""
    path = tmp_path / "serving.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("ORDERHUB_SERVING", str(path))
    at = run_app()
    assert len(at.error) == 1 and str(path) in at.error[0].value


def test_bad_refresh_setting_is_reported(serving: Path, monkeypatch: pytest.MonkeyPatch):
    """A bad ORDERHUB_REFRESH_SECONDS is reported on the page with the variable's name; a good one is the
    interval the page states."""
    monkeypatch.setenv("ORDERHUB_REFRESH_SECONDS", "soon")
    at = run_app()
    assert "ORDERHUB_REFRESH_SECONDS" in at.error[0].value and not at.metric
    monkeypatch.setenv("ORDERHUB_REFRESH_SECONDS", "2")
    run_app(at)
    assert not at.error and "每 2 秒自动刷新" in at.caption[0].value
