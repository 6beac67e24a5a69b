"""A micro-batch's key and invariant tests read the partitions it rebuilt; every other run reads whole tables.

A simulated day is loaded in two batches: the first built whole (the nightly build), the second by a
micro-batch's incremental `dbt build` with its tests scoped (the orchestrator's row in pipeline.dbt_test_scope,
dbt_project/macros/batch_scope.sql). Faults are put in while that one dbt invocation runs, right after the
model they break is built and before its tests run, as a bug in the incremental SQL or in the loader would:

* inside what the batch touched (an order it changed, an address it changed an order at), the micro-batch's
  scoped test fails;
* elsewhere, the micro-batch's scoped test does not read those rows and passes, and the same test run whole
  (as the hourly checks job and the nightly rebuild run it) fails.

dbt runs in this process through dbtRunner, as in test_incremental_equivalence.py; a callback on dbt's own
"node finished" event puts the fault in, through a second connection to the same DuckDB database.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest
from dbt_harness import dbt_args

from ingestion import warehouse
from ingestion.landing import discover
from ingestion.loader import run_batch
from orchestration.defs.transform.cadence import critical_test_names
from simulator import simulate_day

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 26)
ORDERS = 300
AS_OF = "2026-11-26 15:00:00"
FINANCE = ["path:models/intermediate/finance", "path:models/marts/finance"]
NIGHTLY = ["build", "--full-refresh", "--exclude", *FINANCE, "--exclude-resource-type", "unit_test"]


def micro_batch(critical: frozenset[str]) -> list[str]:
    """What the micro-batch job has dagster-dbt run: the models and, named one by one (no indirect selection),
    the critical tests (orchestration/defs/transform/cadence.py); the views left as they are."""
    return [
        "build",
        "--select",
        "resource_type:model",
        *sorted(critical),
        "--exclude",
        *FINANCE,
        "config.materialized:view",
        "--indirect-selection",
        "empty",
        "--exclude-resource-type",
        "unit_test",
    ]


# Orders and addresses the micro-batch changed, and ones it did not; read while it runs.
NEW_BATCHES = "select batch_id from raw.ingest_batches except select batch_id from main.first_batches"
CHANGED = f"""
    select order_key from raw.order_history where batch_id in ({NEW_BATCHES})
    union select order_key from raw.order_events where batch_id in ({NEW_BATCHES})
"""
TOUCHED_PERIODS = "select store_id, sku_id, snapshot_at from pipeline.fct_stock_position_history__touched"
TOUCHED_ADDRESSES = (
    f"select address_key from raw.order_history where address_key is not null and order_key in ({CHANGED})"
)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    row = con.execute(sql).fetchone()
    assert row is not None and row[0] is not None, f"no row for the fault to use: {sql}"
    return row[0]


def duplicate_order(touched: bool) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """A second fct_orders row for an order the batch changed (or did not)."""

    def fault(con: duckdb.DuckDBPyConnection) -> None:
        where = "in" if touched else "not in"
        key = _one(con, f"select min(order_key) from marts.fct_orders where order_key {where} ({CHANGED})")
        con.execute("insert into marts.fct_orders select * from marts.fct_orders where order_key = ?", [key])

    return fault


def unpacked_line(touched: bool) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """An order's packed items dropped (its lines in no parcel), at an address the batch touched (or not)."""

    def fault(con: duckdb.DuckDBPyConnection) -> None:
        where = "in" if touched else "not in"
        key = _one(
            con,
            f"select min(order_key) from marts.fct_parcel_items where address_key {where} ({TOUCHED_ADDRESSES})",
        )
        con.execute("delete from marts.fct_parcel_items where order_key = ?", [key])

    return fault


def miscounted_merge_group(touched: bool) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """A merge group's savings row counting one order more than the group has, at an address the batch touched
    (or not): the day's delivery orders in fct_merge_savings_daily then disagree with the merge groups."""

    def fault(con: duckdb.DuckDBPyConnection) -> None:
        where = "in" if touched else "not in"
        group = _one(
            con,
            "select min(merge_group_id) from intermediate.int_parcels__merge_savings "
            f"where address_key {where} ({TOUCHED_ADDRESSES})",
        )
        con.execute(
            "update intermediate.int_parcels__merge_savings set orders = orders + 1 where merge_group_id = ?", [group]
        )

    return fault


def doubled_movement(touched: bool) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """A stock movement written twice, in a count period the stock ledger rebuilt (or did not)."""

    def fault(con: duckdb.DuckDBPyConnection) -> None:
        where = "in" if touched else "not in"
        movement = _one(
            con,
            "select min(movement_id) from marts.fct_stock_position_history "
            f"where (store_id, sku_id, snapshot_at) {where} ({TOUCHED_PERIODS})",
        )
        con.execute(
            "insert into marts.fct_stock_position_history "
            "select * from marts.fct_stock_position_history where movement_id = ?",
            [movement],
        )

    return fault


# dbt test → (the model after which the fault goes in, the fault); one per kind of partition.
FAULTS: dict[str, tuple[str, Callable[[bool], Callable[[duckdb.DuckDBPyConnection], None]]]] = {
    "unique_fct_orders_order_key": ("fct_orders", duplicate_order),
    "assert_every_item_in_one_parcel": ("fct_parcel_items", unpacked_line),
    "assert_merge_savings_add_up": ("int_parcels__merge_savings", miscounted_merge_group),
    "unique_fct_stock_position_history_movement_id": ("fct_stock_position_history", doubled_movement),
}
# The raw tables' keys are primary keys DuckDB enforces, so no fault can be put there; that their tests read
# only the batch's orders is seen in the SQL dbt ran.
RAW_KEY_TESTS = {
    "source_unique_raw_orders_order_key": "orders",
    "source_unique_combination_raw_order_lines_order_key__line_no": "order_lines",
    "source_unique_combination_raw_order_events_order_key__status__event_time": "order_events",
}


class Dbt:
    """dbt in this process, parsed once; each invocation may put faults in after named models are built."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch):
        from dbt.cli.main import dbtRunner

        self.monkeypatch = monkeypatch
        self.target = workdir / "target"
        # Every read bounded by batch whatever share of history the batches hold (the share rule is for speed,
        # macros/batch_keys.sql): this micro-batch's few orders have versions in the nightly's large batches.
        self.common = [*dbt_args(workdir, AS_OF, batch_bound_max_share=1), "--quiet"]
        parsed = dbtRunner().invoke(["parse", *self.common])
        assert parsed.success, parsed.exception
        self.manifest = parsed.result
        self.critical = critical_test_names(self.target / "manifest.json")
        self.last_sql: dict[str, str] = {}

    def __call__(
        self,
        warehouse_file: Path,
        args: list[str],
        after: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] | None = None,
    ) -> dict[str, str]:
        """Runs dbt; returns each node's status by name."""
        from dbt.cli.main import dbtRunner

        self.monkeypatch.setenv("ORDERHUB_WAREHOUSE", str(warehouse_file))
        after = dict(after or {})

        def on_event(event) -> None:
            if event.info.name != "NodeFinished":
                return
            fault = after.pop(event.data.node_info.node_name, None)
            if fault is not None:
                con = duckdb.connect(str(warehouse_file))  # the database dbt has open, in this process
                try:
                    fault(con)
                finally:
                    con.close()

        result = dbtRunner(manifest=self.manifest, callbacks=[on_event]).invoke([*args, *self.common])
        assert result.result is not None, result.exception
        assert not after, f"models never built, faults not put in: {sorted(after)}"
        self.last_sql = {r.node.name: getattr(r.node, "compiled_code", None) or "" for r in result.result}
        return {r.node.name: str(r.status) for r in result.result}

    def compiled(self) -> dict[str, str]:
        """The SQL the last invocation ran, by node name."""
        return dict(self.last_sql)


def is_scoped(sql: str) -> bool:
    """The test read the partitions the invocation rebuilt (macros/batch_scope.sql), not the whole table."""
    return "__touched where invocation_id" in sql or "pipeline.model_batches where invocation_id" in sql


@pytest.fixture(scope="module")
def dbt(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    yield Dbt(tmp_path_factory.mktemp("dbt"), patch)
    patch.undo()


def _held_back(landing: Path) -> list[Path]:
    """The last order file of each channel: what lands after the nightly build, the micro-batch's files."""
    last = {}
    for file in discover(landing):
        if file.kind == "orders":
            last[file.source] = file.relative
    return [landing / relative for relative in last.values()]


@pytest.fixture(scope="module")
def before_micro_batch(dbt, tmp_path_factory) -> Path:
    """The day but each channel's last order file loaded and built whole; then those files landed and loaded,
    not yet built."""
    root = tmp_path_factory.mktemp("day")
    landing = root / "landing"
    simulate_day(DAY, ORDERS, seed=23, out=landing)
    held = _held_back(landing)
    for path in held:
        path.rename(root / path.name)
    warehouse_file = root / "orderhub.duckdb"
    con = warehouse.connect(warehouse_file)
    try:
        run_batch(con, landing)
    finally:
        con.close()
    statuses = dbt(warehouse_file, NIGHTLY)
    assert all(s in ("success", "pass") for s in statuses.values()), statuses
    con = duckdb.connect(str(warehouse_file))
    try:
        con.execute("create table main.first_batches as select batch_id from raw.ingest_batches")
    finally:
        con.close()
    for path in held:
        (root / path.name).rename(path)
    con = warehouse.connect(warehouse_file)
    try:
        assert run_batch(con, landing).files == len(held)
        # dbt in this process keeps the database open, so what was written may still be in the WAL file:
        # into the database file, for the copies each test makes.
        con.execute("checkpoint")
    finally:
        con.close()
    return warehouse_file


def _set_scope(warehouse_file: Path, scoped: bool) -> None:
    """What the orchestrator does around a micro-batch's dbt invocation (cadence.scoped_to_batches)."""
    con = duckdb.connect(str(warehouse_file))
    try:
        con.execute("create schema if not exists pipeline")
        con.execute("create table if not exists pipeline.dbt_test_scope (scope varchar)")
        con.execute("delete from pipeline.dbt_test_scope")
        if scoped:
            con.execute("insert into pipeline.dbt_test_scope values ('micro_batch')")
    finally:
        con.close()


class MicroBatch(NamedTuple):
    warehouse: Path
    statuses: dict[str, str]
    compiled: dict[str, str]  # the SQL each test ran


def micro_batch_with_faults(dbt: Dbt, source: Path, workdir: Path, touched: bool, tests: list[str]) -> MicroBatch:
    warehouse_file = workdir / "orderhub.duckdb"
    shutil.copyfile(source, warehouse_file)
    _set_scope(warehouse_file, True)
    after = {FAULTS[test][0]: FAULTS[test][1](touched) for test in tests}
    statuses = dbt(warehouse_file, micro_batch(dbt.critical), after=after)
    _set_scope(warehouse_file, False)
    compiled = {name: sql for name, sql in dbt.compiled().items() if name in dbt.critical}
    return MicroBatch(warehouse_file, statuses, compiled)


@pytest.fixture
def touched_run(dbt, before_micro_batch, tmp_path, test_name) -> MicroBatch:
    """One fault per micro-batch: a failed test stops what is downstream of its model (dbt build)."""
    return micro_batch_with_faults(dbt, before_micro_batch, tmp_path, True, [test_name])


@pytest.fixture(scope="module")
def untouched_run(dbt, before_micro_batch, tmp_path_factory) -> MicroBatch:
    return micro_batch_with_faults(dbt, before_micro_batch, tmp_path_factory.mktemp("untouched"), False, list(FAULTS))


@pytest.mark.parametrize("test_name", sorted(FAULTS))
def test_a_fault_in_what_the_batch_touched_fails_the_micro_batch(touched_run, test_name):
    assert touched_run.statuses[test_name] == "fail"


@pytest.mark.parametrize("test_name", sorted(FAULTS))
def test_a_fault_elsewhere_is_left_to_the_whole_table_runs(dbt, untouched_run, test_name):
    assert untouched_run.statuses[test_name] == "pass", "the micro-batch read rows it did not rebuild"
    # The hourly checks job and an analyst's run: tests only, no scope row.
    whole = dbt(untouched_run.warehouse, ["test", "--select", test_name])
    assert whole[test_name] == "fail"


def test_a_micro_batch_with_faults_only_elsewhere_passes_its_scoped_tests(untouched_run):
    """Scoping takes rows away from a test, never adds a finding: with the faults outside what the batch
    touched, every scoped test passes. (Tests of what every run rebuilds whole, the stock conservation over
    the positions, still read everything and may see a fault anywhere.)"""
    scoped = {name for name, sql in untouched_run.compiled.items() if is_scoped(sql)}
    assert len(scoped) >= 20, sorted(untouched_run.compiled)
    assert {name: untouched_run.statuses[name] for name in scoped if untouched_run.statuses[name] != "pass"} == {}


def _rows_read(sql: str) -> str:
    """The predicate a scoped generic test put on its table's rows (macros/batch_scope.sql, get_where_subquery)."""
    found = re.search(r"where \((.*)\)\) dbt_subquery", sql, re.DOTALL)
    assert found, sql
    return found.group(1)


@pytest.mark.parametrize("test_name", sorted(RAW_KEY_TESTS))
def test_the_raw_keys_are_read_for_the_orders_the_batch_changed(untouched_run, test_name):
    """Every row of those orders, and no other: the same rows as reading them by the batches' changed orders,
    though the lines and events are read bounded by batch too (a row left behind by an older version, which a
    duplicate would be, carries one of that order's versions' batches)."""
    predicate = _rows_read(untouched_run.compiled[test_name])
    listed = re.search(r"order_key in \(([^)]*)\)", predicate)
    assert listed and listed.group(1).startswith("'"), predicate  # the invocation's literal key list
    table = RAW_KEY_TESTS[test_name]
    con = duckdb.connect(str(untouched_run.warehouse))  # dbt in this process has it open
    try:
        read = con.execute(f"select count(*), sum(hash(t)) from raw.{table} t where {predicate}").fetchone()
        changed = con.execute(
            f"select count(*), sum(hash(t)) from raw.{table} t where order_key in ({CHANGED})"
        ).fetchone()
    finally:
        con.close()
    assert read == changed and read[0] > 0
    if table != "orders":
        assert "batch_id in (" in predicate, predicate


def test_a_full_refresh_reads_whole_tables_even_when_marked_a_micro_batch(dbt, before_micro_batch, tmp_path):
    warehouse_file = tmp_path / "orderhub.duckdb"
    shutil.copyfile(before_micro_batch, warehouse_file)
    _set_scope(warehouse_file, True)
    dbt(warehouse_file, ["build", "--select", "fct_orders", "--full-refresh"])
    assert not is_scoped(dbt.compiled()["unique_fct_orders_order_key"])
    dbt(warehouse_file, ["build", "--select", "fct_orders"])
    assert is_scoped(dbt.compiled()["unique_fct_orders_order_key"])


def test_every_incremental_model_declares_the_partition_its_pre_hook_rebuilds(dbt):
    """A model that records the batches it consumed (mark_batches_consumed) declares meta.batch_partition, and a
    SQL model's declaration names the partition its pre-hook deletes: a new incremental model cannot slip by
    with its tests reading whole tables, nor read another partition than the one it rebuilt."""
    hook_partition = {"order_key": "order", "address_key": "address", "business_date": "business_day"}
    wrong = {}
    for node in dbt.manifest.nodes.values():
        if node.resource_type != "model":
            continue
        post = " ".join(hook.sql for hook in node.config.post_hook)
        if "mark_batches_consumed" not in post:
            continue
        declared = node.config.meta.get("batch_partition")
        pre = " ".join(hook.sql for hook in [*node.config.pre_hook, *node.config.post_hook])
        found = re.search(r"(?:delete|record)_touched\('(\w+)'", pre)
        if "delete_touched_stock_periods" in pre:
            expected = "count_period"
        else:
            expected = hook_partition.get(found.group(1)) if found else None
        if declared is None or declared != expected:
            wrong[node.name] = (declared, expected)
    assert wrong == {}
