"""The dashboard tests run on hand-built snapshots (tests/dashboards/dashboard_snapshots.py). This proves those
snapshots are shaped like the real one: a snapshot published by a real pipeline run (real dbt marts, real
dispatch tables) holds every table and column the hand-built ones declare, with the same types, and every
page's queries run on it and find their tables."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dashboards import queries
from orchestration.defs.serving import publish as serving

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
COLUMN = re.compile(r"(\w+)\s+([A-Z]+(?:\(\d+,\s*\d+\))?(?:\[\])?)")


@pytest.fixture(scope="module")
def real_snapshot(clean_pipeline_run, simulated_day, tmp_path_factory) -> Path:
    """The clean run's warehouse, reconciled for its day through the real reconciliation job (a separate
    daily job, so a micro-batch run alone publishes no reconciliation tables), then published."""
    warehouse, *_ = clean_pipeline_run
    landing, truth = simulated_day
    workdir = tmp_path_factory.mktemp("contract")
    copy = workdir / "orderhub.duckdb"
    shutil.copyfile(warehouse, copy)
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    recon = subprocess.run(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "recon",
            "run",
            "--date",
            truth["date"],
            "--landing",
            str(landing),
            "--warehouse",
            str(copy),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert recon.returncode == 0, recon.stdout[-3000:] + recon.stderr[-3000:]
    snapshot = workdir / "serving.duckdb"
    serving.publish(copy, snapshot, "run-contract-real")
    return snapshot


def _declared_tables() -> dict[str, dict[str, str]]:
    spec = importlib.util.spec_from_file_location(
        "dashboard_snapshots", ROOT / "tests" / "dashboards" / "dashboard_snapshots.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return {
        table: {name: kind.replace(" ", "") for name, kind in COLUMN.findall(columns)}
        for table, columns in module.TABLES.items()
    }


def _published_tables(snapshot: Path) -> dict[str, dict[str, str]]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        rows = con.execute("select table_name, column_name, data_type from information_schema.columns").fetchall()
    finally:
        con.close()
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind.replace(" ", "")
    return tables


def _same_type(declared: str, published: str) -> bool:
    # Integer widths differ harmlessly between a hand-written DDL and dbt's inferred types.
    integers = {"INTEGER", "BIGINT", "HUGEINT", "SMALLINT", "TINYINT"}
    return declared == published or (declared in integers and published in integers)


def test_real_snapshot_has_every_table_and_column_the_page_tests_assume(real_snapshot):
    published = _published_tables(real_snapshot)
    declared = _declared_tables()
    absent_tables = sorted(set(declared) - set(published))
    assert not absent_tables, f"tables the dashboard tests build but a real run does not publish: {absent_tables}"
    wrong = {
        f"{table}.{column}": (kind, published[table].get(column))
        for table, columns in declared.items()
        for column, kind in columns.items()
        if not _same_type(kind, published[table].get(column, "absent"))
    }
    assert not wrong, f"declared (test snapshot) vs published (real run) column types differ: {wrong}"


def test_every_page_reads_the_real_snapshot(real_snapshot, simulated_day):
    _, truth = simulated_day
    snapshot = real_snapshot
    live = queries.read_live(snapshot)
    assert live.totals is not None and live.headline is not None and live.live_map is not None
    assert sum(row["orders"] for row in live.channels) == truth["orders"]
    for page in queries.PAGE_FETCHERS:
        data = queries.read_page(snapshot, page)
        assert getattr(data, "missing", ()) in ((), None), f"page {page} misses tables {data.missing}"
