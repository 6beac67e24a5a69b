"""The pages read from the snapshot's copy in ClickHouse (ORDERHUB_CLICKHOUSE_DSN set), through the real engine
(chdb): the same figures as from the file, a new publish seen on the next refresh, the copy loaded once per
version, and a store that cannot be read said so on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from dashboard_snapshots import Snapshot, publish
from test_dashboard_pages import PAGES, open_page, rerun, tiles

from dashboards.queries import clickhouse as clickhouse_reader
from history import serving as serving_copy
from history.client import connect

DSN_ENV = "ORDERHUB_CLICKHOUSE_DSN"


def copy_to_clickhouse(snapshot: Path, dsn: str) -> None:
    """What the pipeline's history/serving asset does after each publish."""
    client = connect(dsn)
    try:
        serving_copy.publish_snapshot(client, snapshot)
    finally:
        client.close()


@pytest.fixture
def clickhouse(serving: Path, tmp_path: Path) -> str:
    """A chdb store holding a copy of the default snapshot; its DSN (not yet in the environment)."""
    dsn = f"chdb://{tmp_path / 'ch'}"
    copy_to_clickhouse(serving, dsn)
    return dsn


def figures(at) -> dict:
    """What a page says in numbers and words: tiles (with their help), tables, the map's data, notes."""
    return {
        "tiles": [(m.label, m.value, m.proto.help) for m in at.metric],
        "tables": [d.value.to_csv() for d in at.dataframe],
        "maps": [json.loads(deck.proto.json) for deck in at.get("deck_gl_json_chart")],
        "notes": [e.value for kind in ("info", "warning", "error") for e in getattr(at, kind)],
    }


def every_page() -> dict[str, dict]:
    shown, at = {}, None
    for page in PAGES:
        at = open_page(page, at)
        shown[page] = figures(at)
    return shown


def test_every_page_shows_the_same_figures_from_clickhouse(
    serving: Path, clickhouse: str, monkeypatch: pytest.MonkeyPatch, count_snapshot_opens
):
    """Every page, rendered once from the snapshot file and once from its ClickHouse copy, shows the same tiles,
    tables, map data and notes; the second time the file is not opened at all."""
    from_file = every_page()
    assert from_file["exceptions"]["tiles"][0][:2] == ("未处理异常", "4")  # the fixture's numbers, not empty pages

    monkeypatch.setenv(DSN_ENV, clickhouse)
    st.cache_data.clear()
    opens = count_snapshot_opens()
    from_clickhouse = every_page()
    assert count_snapshot_opens() == opens, "read the snapshot file although a ClickHouse DSN is set"
    for page in PAGES:
        assert from_clickhouse[page] == from_file[page], page


def test_filters_read_the_same_rows_from_clickhouse(clickhouse: str, monkeypatch: pytest.MonkeyPatch):
    """A filter runs the page's query again with its value, on the ClickHouse copy as on the file."""
    monkeypatch.setenv(DSN_ENV, clickhouse)
    at = open_page("exceptions")
    at.selectbox(key="exc_type").set_value("late_risk")
    rerun(at)
    assert list(at.dataframe[1].value["订单号"]) == ["app:APP2026112600042"]
    at = open_page("stock", at)
    at.selectbox(key="stock_store").set_value("SH002")
    rerun(at)
    assert tiles(at)["门店商品数"] == "2"


def test_a_new_publish_is_read_on_the_next_refresh_and_each_version_once(
    serving: Path, clickhouse: str, monkeypatch: pytest.MonkeyPatch
):
    """The pages follow the ClickHouse copy, not the file: a version published to ClickHouse alone shows on
    the next run. Its tables are fetched once, however many pages and filters read them."""
    fetched = []
    real_read_tables = serving_copy.read_tables

    def counting(client, publish, tables=None):
        fetched.append(publish.version)
        return real_read_tables(client, publish, tables)

    monkeypatch.setattr(serving_copy, "read_tables", counting)
    monkeypatch.setattr(clickhouse_reader, "VERSION_TTL_SECONDS", 0.0)  # the next run asks again at once
    monkeypatch.setenv(DSN_ENV, clickhouse)
    at = open_page("exceptions")
    at = open_page("stock", at)
    at = open_page("quality", at)
    assert "run-001" in at.caption[0].value

    newer = serving.with_name("newer.duckdb")
    publish(newer, Snapshot(run_id="run-002"))
    copy_to_clickhouse(newer, clickhouse)
    rerun(at)
    assert "run-002" in at.caption[0].value
    assert fetched == [1, 2]


def test_nothing_published_to_clickhouse_yet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store the pipeline has not copied a snapshot to: every page says there is no data yet, naming
    ClickHouse, and keeps polling; no error."""
    monkeypatch.setenv(DSN_ENV, f"chdb://{tmp_path / 'empty'}")
    at = None
    for page in PAGES:
        at = open_page(page, at)
        assert not at.error, page
        assert len(at.info) == 1 and "orderhub_serving" in at.info[0].value, page


def test_a_store_that_cannot_be_read_is_named_in_an_error(monkeypatch: pytest.MonkeyPatch):
    """A DSN the dashboard cannot use is an error on the page saying what is wrong with it, not a crash."""
    monkeypatch.setenv(DSN_ENV, "ftp://ch.example:21")
    at = open_page("live")
    assert len(at.error) == 1
    assert "scheme must be one of http, https, chdb" in at.error[0].value


def test_sessions_refreshing_together_ask_clickhouse_once(clickhouse: str, monkeypatch: pytest.MonkeyPatch):
    """Pages refreshing, other pages and filters opened within the version's time to live: no look at the
    pointer beyond the first page's (each is an engine start on a chdb folder the pipeline needs)."""
    asked = []
    real_latest = serving_copy.latest_publish

    def counting(client):
        asked.append(1)
        return real_latest(client)

    monkeypatch.setattr(serving_copy, "latest_publish", counting)
    monkeypatch.setattr(clickhouse_reader, "VERSION_TTL_SECONDS", 60.0)
    monkeypatch.setenv(DSN_ENV, clickhouse)
    at = open_page("exceptions")
    first = len(asked)  # the version check, and the load's own look at the pointer
    for _ in range(3):
        rerun(at)
    at = open_page("stock", at)
    at.selectbox(key="stock_store").set_value("SH002")
    rerun(at)
    assert len(asked) == first  # another page and a filter: the version from the cache, its tables already loaded
