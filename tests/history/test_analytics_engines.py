"""Every question gives the same answer on DuckDB and on ClickHouse (chdb) for the same data: a warehouse built by
the real pipeline (`orderhub run` over two simulated days), written to ClickHouse by the real sink
(history.sink.sync, twice: a repeated sync must not double anything the questions count)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import duckdb
import pytest

from history.analytics import DIMENSIONS, QUESTIONS, ClickHouseStore, DuckDBStore, Scope
from history.client import connect
from history.sink import sync

DAYS = (dt.date(2026, 11, 20), dt.date(2026, 11, 21))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    from simulator import simulate_day

    workdir = tmp_path_factory.mktemp("analytics_engines")
    landing, warehouse = workdir / "landing", workdir / "orderhub.duckdb"
    for i, day in enumerate(DAYS):
        simulate_day(day, orders=600, seed=31 + i, out=landing)
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "ORDERHUB_CLICKHOUSE_DSN")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "run",
            "--landing",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--as-of",
            DAYS[-1].isoformat(),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    duck = duckdb.connect(str(warehouse), read_only=True)
    client = connect(f"chdb://{workdir / 'ch'}?database=analytics_engines")
    sync(duck, client)
    sync(duck, client)
    try:
        yield DuckDBStore(duck), ClickHouseStore(client, "analytics_engines")
    finally:
        client.close()
        duck.close()


SCOPES = [Scope(by=by) for by in DIMENSIONS] + [Scope(by="channel", date_from=DAYS[1], date_to=DAYS[1])]


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_same_answer_on_both_engines(stores, question):
    on_duckdb, on_clickhouse = stores
    for scope in SCOPES:
        a, b = on_duckdb.ask(question, scope), on_clickhouse.ask(question, scope)
        assert a.columns == b.columns, scope
        assert a.rows, f"{question} {scope}: no rows, the comparison would prove nothing"
        assert a.rows == b.rows, f"{question} {scope}"


def test_the_data_exercises_every_question(stores):
    """Not a vacuous comparison: the simulated days have merges across channels, repeats and exceptions."""
    on_duckdb, _ = stores
    merges = on_duckdb.ask("merges", Scope())
    assert sum(r[merges.columns.index("cross_channel_merge_groups")] for r in merges.rows) > 0
    repeat = on_duckdb.ask("repeat", Scope())
    assert sum(r[repeat.columns.index("repeat_orders")] for r in repeat.rows) > 0
    exceptions = on_duckdb.ask("exceptions", Scope())
    assert sum(r[exceptions.columns.index("orders_with_exceptions")] for r in exceptions.rows) > 0
