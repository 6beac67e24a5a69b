"""The incremental marts give the same rows as a full rebuild, however a day is cut into micro-batches.

A simulated day (with its re-pushes, status changes, cancellations, bad records and duplicates) is loaded
three ways: in one batch, in 10 and in 100, each batch followed by the micro-batch's incremental dbt run;
every mart (and the intermediate tables the marts are built from) must then equal a full rebuild of the
same raw data. Orders of one customer at one door arrive in different batches, so merge groups opened in
one batch and joined in a later one, and groups a later status push seals or a cancellation breaks, are
all exercised across the batch boundary.

Columns that record *which batch* or *when we received* something legitimately differ between the ways of
loading and are left out of the comparison; so is the batch accounting mart, which is about batches.

dbt runs in this process through dbtRunner with one parsed manifest (a subprocess per batch would parse the
project a hundred times); it is the same dbt, project, vars and warehouse adapter the orchestrator uses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from dbt_harness import dbt_args

from ingestion import warehouse
from ingestion.landing import discover
from ingestion.loader import run_batch
from simulator import simulate_day

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 26)
ORDERS = 400
AS_OF = "2026-11-26 15:00:00"  # the day's end in Asia/Shanghai is 16:00 UTC: late risk is still live
MICRO_BATCH = ["run", "--exclude", "path:models/intermediate/finance", "path:models/marts/finance"]
# A micro-batch after the first, as the orchestrator runs it (orchestration/defs/transform/assets.py): the views
# the first run created stand as they are (same models, same vars), so re-creating them is DDL for nothing.
LATER_MICRO_BATCH = [*MICRO_BATCH, "--exclude", "config.materialized:view"]
# Facts about the loading, not about the orders; rebuilt_seq: which dbt invocation wrote the row.
BATCH_COLUMNS = {"batch_id", "received_at", "last_received_at", "quarantined_at", "rebuilt_seq"}
BATCH_TABLES = {"fct_ingest_accounting"}
LOADING_TIMES = {"fct_quarantine_summary": {"first_at", "last_at"}}  # when records were quarantined


class Dbt:
    """dbt in this process, parsed once; the warehouse comes from ORDERHUB_WAREHOUSE per invocation. `extra_vars`
    are passed to dbt beside the rules and the clock."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch, as_of: str = AS_OF, **extra_vars):
        from dbt.cli.main import dbtRunner

        self.monkeypatch = monkeypatch
        # No manifest.json or run_results.json per invocation: the results are read from the returned object,
        # and serialising the whole manifest after each of a hundred runs cost about 5% of each.
        self.common = [*dbt_args(workdir, as_of, **extra_vars), "--quiet", "--no-write-json"]
        parsed = dbtRunner().invoke(["parse", *self.common])
        assert parsed.success, parsed.exception
        self.runner = dbtRunner(manifest=parsed.result)

    def __call__(self, warehouse_file: Path, args: list[str]) -> None:
        self.monkeypatch.setenv("ORDERHUB_WAREHOUSE", str(warehouse_file))
        result = self.runner.invoke([*args, *self.common])
        failed = [r.node.name for r in (result.result or []) if r.status not in ("success", "pass")]
        assert result.success and not failed, f"dbt {args[0]} failed on {failed}: {result.exception}"


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("day") / "landing"
    simulate_day(DAY, ORDERS, seed=23, out=root)
    return root


@pytest.fixture(scope="module")
def dbt(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    yield Dbt(tmp_path_factory.mktemp("dbt"), patch)
    patch.undo()


def load_in_batches(
    landing: Path,
    warehouse_file: Path,
    batches: int,
    dbt: Dbt,
    arrivals: dict[int, Callable[[Path], None]] | None = None,
) -> int:
    """Load the day in `batches` micro-batches (consecutive files in landing order), the incremental dbt run
    after each, as the pipeline does; `arrivals[n]` writes files into the landing zone before batch n (from
    1). Returns the number of batches that loaded something."""
    per_batch = math.ceil(len(discover(landing)) / batches)
    loaded = 0
    while True:
        if arrivals and loaded + 1 in arrivals:
            arrivals[loaded + 1](landing)
        con = warehouse.connect(warehouse_file)
        try:
            result = run_batch(con, landing, max_files=per_batch)
        finally:
            con.close()
        if not result.files:
            return loaded
        loaded += 1
        dbt(warehouse_file, MICRO_BATCH if loaded == 1 else LATER_MICRO_BATCH)


def built_tables(warehouse_file: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(warehouse_file))  # as dbt in this process has it open: read-write
    try:
        return con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') and table_type = 'BASE TABLE' order by all"
        ).fetchall()
    finally:
        con.close()


def leftover_relations(warehouse_file: Path) -> list[str]:
    """Tables dbt built for one step and should have dropped (an incremental Python model's new rows)."""
    con = duckdb.connect(str(warehouse_file))
    try:
        return [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() where table_name like '%\\_\\_dbt\\_%' escape '\\'"
            ).fetchall()
        ]
    finally:
        con.close()


def _copy(warehouse_file: Path, copy: Path | None = None) -> Path:
    """The file and its write-ahead log, copied (beside it unless `copy` names where)."""
    copy = copy or warehouse_file.with_name(f"compare-{warehouse_file.name}")
    for suffix in ("", ".wal"):
        source, target = Path(f"{warehouse_file}{suffix}"), Path(f"{copy}{suffix}")
        if source.exists():
            shutil.copyfile(source, target)
        else:
            # An earlier copy's log, left beside a file since checkpointed, would not match it: DuckDB refuses it.
            target.unlink(missing_ok=True)
    return copy


def differences(expected: Path, actual: Path) -> dict[str, tuple[int, int]]:
    """Per table: rows only in the full rebuild, rows only in the incremental build (as multisets)."""
    out = {}
    con = duckdb.connect()
    try:
        # Copies: dbt in this process still holds the files attached, and DuckDB attaches a file once.
        con.execute(f"attach '{_copy(expected)}' as full_ (read_only)")
        con.execute(f"attach '{_copy(actual)}' as incr (read_only)")
        for schema, table in built_tables(expected):
            if table in BATCH_TABLES:
                continue
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog = 'full_' "
                    "and table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in BATCH_COLUMNS | LOADING_TIMES.get(table, set())
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            a = f"select {listed} from full_.{schema}.{table}"
            b = f"select {listed} from incr.{schema}.{table}"
            only_full = con.execute(f"select count(*) from ({a} except all {b})").fetchone()[0]
            only_incr = con.execute(f"select count(*) from ({b} except all {a})").fetchone()[0]
            if only_full or only_incr:
                out[f"{schema}.{table}"] = (only_full, only_incr)
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def full_rebuild(landing, dbt, tmp_path_factory) -> Path:
    """The day loaded at once and every model built from scratch: what the nightly job gives."""
    warehouse_file = tmp_path_factory.mktemp("full") / "orderhub.duckdb"
    con = warehouse.connect(warehouse_file)
    try:
        run_batch(con, landing)
    finally:
        con.close()
    dbt(warehouse_file, [*MICRO_BATCH, "--full-refresh"])
    return warehouse_file


@pytest.mark.parametrize("batches", [1, 10, 100])
def test_micro_batches_build_what_a_full_rebuild_builds(landing, dbt, full_rebuild, tmp_path, batches):
    warehouse_file = tmp_path / "orderhub.duckdb"
    loaded = load_in_batches(landing, warehouse_file, batches, dbt)
    assert loaded >= 0.8 * batches, f"the day was cut into {loaded} batches, not about {batches}"
    assert built_tables(warehouse_file) == built_tables(full_rebuild)
    assert leftover_relations(warehouse_file) == []
    assert differences(full_rebuild, warehouse_file) == {}


EARLIER = "2026-11-26 06:00:00"  # 14:00 local: the afternoon's promises are still ahead of the clock


def _exceptions(warehouse_file: Path) -> set[tuple]:
    con = duckdb.connect(str(_copy(warehouse_file)), read_only=True)
    try:
        return set(con.execute("select * from marts.fct_exceptions").fetchall())
    finally:
        con.close()


def test_exceptions_follow_the_clock_with_nothing_new(full_rebuild, dbt, tmp_path_factory):
    """fct_exceptions is rebuilt for the orders a batch changed and the orders whose late-risk window the clock
    crossed since its last build: when the clock moves with no new batch, forwards or back (a replay), late risk
    moves with it, as a full rebuild at the new clock has it."""

    # dbt's catalog is the file's name, so each copy keeps it in a folder of its own.
    def copy(folder: str) -> Path:
        return _copy(full_rebuild, tmp_path_factory.mktemp(folder) / full_rebuild.name)

    at_earlier, forward, backward = copy("at_earlier"), copy("forward"), copy("backward")
    patch = pytest.MonkeyPatch()
    try:
        earlier = Dbt(tmp_path_factory.mktemp("earlier"), patch, as_of=EARLIER)
        earlier(at_earlier, [*MICRO_BATCH, "--full-refresh"])
        earlier(forward, [*MICRO_BATCH, "--full-refresh"])
        earlier(backward, MICRO_BATCH)  # built at AS_OF (every batch consumed), the clock turned back
    finally:
        patch.undo()
    dbt(forward, MICRO_BATCH)  # built at EARLIER, the clock moved on to AS_OF
    assert _exceptions(at_earlier) != _exceptions(full_rebuild), "no promise falls between the clocks: no test"
    assert _exceptions(forward) == _exceptions(full_rebuild)
    assert _exceptions(backward) == _exceptions(at_earlier)


# Stock reference data arriving mid-day: a second WMS count of every other store/SKU at 13:00 local (the
# orders after it move out of the morning period), goods movements in both periods and one before the day's
# first count, and later a corrected count and a re-sent goods movement (reference rows replace by key). The
# counts and goods movements that matter are of store/SKUs nobody ordered that day, so only the reference
# rows themselves can tell the stock ledger to rebuild their periods.
MIDDAY = "2026-11-26T13:00:00+08:00"


def _write_reference(landing: Path, table: str, name: str, rows: list[dict]) -> None:
    path = landing / "reference" / table / DAY.isoformat() / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _morning_counts(landing: Path) -> list[dict]:
    path = landing / "reference" / "stock_snapshots" / DAY.isoformat() / "stock_snapshots.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def unordered(landing, tmp_path_factory) -> tuple[dict, dict, dict]:
    """Three of the day's counted store/SKUs no order of the day asks for: the first is recounted at midday
    (its index in the count file is even), the second is not (odd), the third is any other."""
    warehouse_file = tmp_path_factory.mktemp("unordered") / "orderhub.duckdb"
    con = warehouse.connect(warehouse_file)
    try:
        run_batch(con, landing)
        ordered = set(
            con.execute(
                "select distinct o.store_id, l.sku_id from raw.orders as o "
                "inner join raw.order_lines as l using (order_key)"
            ).fetchall()
        )
    finally:
        con.close()
    counts = list(enumerate(_morning_counts(landing)))
    quiet = [(i, row) for i, row in counts if (row["store_id"], row["sku_id"]) not in ordered]
    even = next(row for i, row in quiet if i % 2 == 0)
    odd = next(row for i, row in quiet if i % 2 == 1)
    other = next(row for _, row in quiet if row not in (even, odd))
    return even, odd, other


def _midday_count_and_goods(pairs: tuple[dict, dict, dict]) -> Callable[[Path], None]:
    a, b, c = pairs

    def arrive(landing: Path) -> None:
        recounted = [
            {**row, "snapshot_at": MIDDAY, "on_hand": row["on_hand"] // 2} for row in _morning_counts(landing)[::2]
        ]
        _write_reference(landing, "stock_snapshots", "stock_snapshots-1", recounted)
        _write_reference(
            landing,
            "stock_movements",
            "stock_movements-1",
            [
                _goods("MID-1", a, "receipt", 7, "2026-11-26T11:00:00+08:00"),
                _goods("MID-2", a, "write_off", 1, "2026-11-26T15:00:00+08:00"),
                _goods("MID-3", b, "transfer_out", 2, "2026-11-26T14:00:00+08:00"),
                _goods("MID-4", c, "write_off", 3, "2026-11-26T03:00:00+08:00"),  # before the first count
            ],
        )

    return arrive


def _corrections(pairs: tuple[dict, dict, dict]) -> Callable[[Path], None]:
    a, b, _ = pairs

    def arrive(landing: Path) -> None:
        recount = {**a, "snapshot_at": MIDDAY, "on_hand": a["on_hand"] + 3}
        _write_reference(landing, "stock_snapshots", "stock_snapshots-2", [recount])
        resent = _goods("MID-3", b, "transfer_out", 5, "2026-11-26T12:30:00+08:00")
        _write_reference(landing, "stock_movements", "stock_movements-2", [resent])

    return arrive


def _goods(movement_id: str, pair: dict, kind: str, quantity: int, at: str) -> dict:
    return {
        "movement_id": movement_id,
        "store_id": pair["store_id"],
        "sku_id": pair["sku_id"],
        "movement_type": kind,
        "quantity": quantity,
        "moved_at": at,
    }


def test_counts_and_goods_movements_between_micro_batches(landing, unordered, dbt, tmp_path):
    whole = tmp_path / "full" / "landing"
    shutil.copytree(landing, whole)
    _midday_count_and_goods(unordered)(whole)
    _corrections(unordered)(whole)
    full_warehouse = tmp_path / "full" / "orderhub.duckdb"
    con = warehouse.connect(full_warehouse)
    try:
        run_batch(con, whole)
    finally:
        con.close()
    dbt(full_warehouse, [*MICRO_BATCH, "--full-refresh"])

    arriving = tmp_path / "incremental" / "landing"
    shutil.copytree(landing, arriving)
    warehouse_file = tmp_path / "incremental" / "orderhub.duckdb"
    arrivals = {4: _midday_count_and_goods(unordered), 7: _corrections(unordered)}
    load_in_batches(arriving, warehouse_file, 10, dbt, arrivals=arrivals)

    con = duckdb.connect(str(_copy(full_warehouse)), read_only=True)
    try:
        kinds = dict(
            con.execute(
                "select movement_kind, count(*) from marts.fct_stock_position_history "
                "where snapshot_at = ? or stock_movement_id like 'MID-%' group by all",
                [dt.datetime(2026, 11, 26, 5)],
            ).fetchall()
        )
    finally:
        con.close()
    # Not vacuous: orders moved into the midday period, and the goods movements that have a period landed.
    assert kinds.get("reserve", 0) > 0 and kinds.get("snapshot") == len(_morning_counts(landing)[::2])
    assert {kinds.get(k, 0) for k in ("receipt", "write_off", "transfer_out")} == {1}
    assert differences(full_warehouse, warehouse_file) == {}
