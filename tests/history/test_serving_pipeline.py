"""The serving copy after a real pipeline run (`orchestration.pipeline.run_once` with a `chdb://` DSN): real marts,
real dispatch tables, the real snapshot. ClickHouse then holds that very snapshot, table for table, and every
page's data read from ClickHouse equals the data read from the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from dashboards import queries
from dashboards.queries import clickhouse as clickhouse_reader
from dashboards.queries.clickhouse import ClickHouseStore
from history import serving
from history.client import connect
from orchestration.pipeline import run_once
from orchestration.settings import Settings

pytestmark = pytest.mark.slow  # one real pipeline run (dbt, dispatch, snapshot) over a simulated day

AS_OF = dt.datetime(2026, 11, 26, 15, 59, 59)


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory) -> Settings:
    from simulator import simulate_day

    root = tmp_path_factory.mktemp("serving_run")
    simulate_day(dt.date(2026, 11, 26), orders=300, seed=5, out=root / "landing")
    settings = Settings.from_env(
        {"ORDERHUB_CLICKHOUSE_DSN": f"chdb://{root / 'ch'}"},
        landing=root / "landing",
        warehouse=root / "wh" / "orderhub.duckdb",
    )
    assert run_once(settings, AS_OF)
    return settings


def test_the_run_leaves_its_snapshot_in_clickhouse(pipeline_run: Settings):
    """Every table of the published snapshot, with the same rows and column types, is the current version."""
    client = connect(pipeline_run.clickhouse_dsn)
    try:
        publish = serving.latest_publish(client)
        assert publish is not None
        copy = duckdb.connect()
        serving.load_into_duckdb(copy, publish, serving.read_tables(client, publish))
    finally:
        client.close()
    snapshot = duckdb.connect(str(pipeline_run.serving), read_only=True)
    try:
        tables = [r[0] for r in snapshot.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert set(tables) == set(publish.tables)
        assert {"fct_exceptions", "dispatch_routes", "fulfilment_daily", "snapshot_meta"} <= set(tables)
        for table in tables:
            described = f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}'"
            assert copy.execute(described).fetchall() == snapshot.execute(described).fetchall(), table
            rows = f"SELECT * FROM {table} ORDER BY ALL"
            assert copy.execute(rows).fetchall() == snapshot.execute(rows).fetchall(), table
    finally:
        snapshot.close()


@pytest.mark.parametrize("page", [None, *queries.PAGE_FETCHERS])
def test_every_page_reads_the_same_from_clickhouse(pipeline_run: Settings, page, monkeypatch):
    """The page fetchers' results (the dataclasses the pages render) are equal from the file and from
    ClickHouse, on a real run's snapshot."""
    monkeypatch.setattr(clickhouse_reader, "VERSION_TTL_SECONDS", 0.0)
    store = ClickHouseStore(pipeline_run.clickhouse_dsn)
    params = {"recon_date": AS_OF.date()} if page == "recon_export" else {}
    if page is None:
        from_file, from_clickhouse = queries.read_live(Path(pipeline_run.serving)), queries.read_live(store)
    else:
        from_file = queries.read_page(Path(pipeline_run.serving), page, **params)
        from_clickhouse = queries.read_page(store, page, **params)
    assert from_clickhouse == from_file
