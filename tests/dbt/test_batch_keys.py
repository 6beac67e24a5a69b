"""The micro-batch's keys as literal lists (dbt_project/macros/batch_keys.sql): read once per dbt invocation,
empty when nothing is pending, carrying orders (and their addresses) first seen in an earlier batch, and
replaced by the subqueries they stand for when the set is larger than `batch_keys_max_literal`; the marts
equal a full rebuild in each case.

A smaller day than the equivalence test's (tests/dbt/test_incremental_equivalence.py, whose harness this
reuses), cut into 10 batches: later batches carry status events and re-pushes of orders loaded before.
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from test_incremental_equivalence import (
    DAY,
    LATER_MICRO_BATCH,
    MICRO_BATCH,
    Dbt,
    _copy,
    differences,
    load_in_batches,
)

from ingestion import warehouse
from ingestion.landing import discover
from ingestion.loader import run_batch
from simulator import simulate_day

pytestmark = pytest.mark.slow

ORDERS = 150
# What marks a key-list look-up (macros/batch_keys.sql: _literal_list, _literal_lists).
KEY_QUERY = "/* batch key lists */"


class KeyedDbt(Dbt):
    """The harness's in-process dbt (with extra vars, if any), and the folder its runs write their SQL to."""

    def __init__(self, workdir: Path, monkeypatch: pytest.MonkeyPatch, **extra_vars):
        self.workdir = workdir
        super().__init__(workdir, monkeypatch, **extra_vars)

    def compiled_sql(self, model: str) -> str:
        return next((self.workdir / "target" / "compiled").rglob(f"{model}.sql")).read_text(encoding="utf-8")

    def key_queries(self) -> int:
        """Key-list look-ups in the newest invocation's log."""
        log = (self.workdir / "logs" / "dbt.log").read_text(encoding="utf-8")
        newest = log.rsplit("Running with dbt=", 1)[-1]
        return newest.count(KEY_QUERY)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("day") / "landing"
    simulate_day(DAY, ORDERS, seed=41, out=root)
    return root


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    yield KeyedDbt(tmp_path_factory.mktemp("dbt"), patch)
    patch.undo()


@pytest.fixture(scope="module")
def whole(day, keyed, tmp_path_factory) -> Path:
    warehouse_file = tmp_path_factory.mktemp("full") / "orderhub.duckdb"
    con = warehouse.connect(warehouse_file)
    try:
        run_batch(con, day)
    finally:
        con.close()
    keyed(warehouse_file, [*MICRO_BATCH, "--full-refresh"])
    return warehouse_file


def listed_orders(sql: str) -> set[str]:
    found = re.search(r"order_key in \(('[^)]*')\)", sql)
    return set(re.findall(r"'([^']*)'", found.group(1))) if found else set()


def test_batches_list_their_keys_once_per_invocation_and_old_orders_among_them(day, keyed, whole, tmp_path):
    warehouse_file = tmp_path / "orderhub.duckdb"
    seen: list[tuple[set[str], int]] = []
    lines_bounded: list[bool] = []

    def look(_landing: Path) -> None:
        if (keyed.workdir / "target" / "compiled").exists():
            sql = keyed.compiled_sql("fct_orders")
            seen.append((listed_orders(sql), keyed.key_queries()))
            lines_bounded.append(" and batch_id in ('" in sql)

    load_in_batches(day, warehouse_file, 10, keyed, arrivals={n: look for n in range(2, 12)})
    assert differences(whole, warehouse_file) == {}
    # A batch's share of the day falls as the day fills: the later batches' line reads carry a batch bound
    # (macros/batch_keys.sql, _bounding_batches), and their marts are still the full build's.
    assert lines_bounded[-1] and not all(lines_bounded), lines_bounded

    # Four look-ups (batches, orders, the orders' history, their current rows' batches) per invocation,
    # whatever the number of models; none in the first, which builds every model whole.
    assert len(seen) >= 8 and seen[0][1] == 0 and {queries for _, queries in seen[1:]} == {4}
    con = duckdb.connect(str(_copy(warehouse_file)), read_only=True)
    try:
        first_batch = dict(
            con.execute("select order_key, min(batch_id) from raw.order_history group by order_key").fetchall()
        )
        batches = [
            b
            for (b,) in con.execute(
                "select batch_id from raw.ingest_batches group by batch_id order by min(started_at), batch_id"
            ).fetchall()
        ]
    finally:
        con.close()
    # A later batch's list holds orders whose first version came in an earlier batch (their status events or
    # re-pushes): the list is every order the batch changed, not only its new ones. Run n consumed batch n.
    old = [
        key
        for n, (keys, _) in enumerate(seen, start=1)
        for key in keys
        if key in first_batch and batches.index(first_batch[key]) < n - 1
    ]
    assert old, "no batch listed an order first loaded by an earlier batch"


def test_an_empty_micro_batch_lists_nothing_and_changes_nothing(keyed, whole, tmp_path):
    warehouse_file = tmp_path / "orderhub.duckdb"
    # Not the fixture's own file: the comparison below reads that one.
    copy = _copy(whole)
    for suffix in ("", ".wal"):
        if Path(f"{copy}{suffix}").exists():
            shutil.copyfile(f"{copy}{suffix}", f"{warehouse_file}{suffix}")
    keyed(warehouse_file, LATER_MICRO_BATCH)  # the views stand: the warehouse was built whole
    assert "where false" in keyed.compiled_sql("fct_orders")
    assert differences(whole, warehouse_file) == {}


def test_above_the_limit_the_models_read_their_pending_partitions(day, whole, tmp_path):
    patch = pytest.MonkeyPatch()
    try:
        capped = KeyedDbt(tmp_path / "dbt", patch, batch_keys_max_literal=0)
        warehouse_file = tmp_path / "orderhub.duckdb"
        load_in_batches(day, warehouse_file, 3, capped)
        sql = capped.compiled_sql("fct_orders")
        assert "pipeline.model_batches" in sql and not listed_orders(sql)
        assert differences(whole, warehouse_file) == {}
    finally:
        patch.undo()


def rebuilt_bounds(sql: str) -> dict[str, str]:
    """The lower bounds a model's reads of its upstreams put on rebuilt_seq (macros/rebuilt_seq.sql), as SQL, by
    the upstream whose ledger each reads."""
    found = re.findall(r"rebuilt_seq >= (coalesce\(\(.*?\), 0\))", sql, re.S)
    assert found, "the read carries no rebuilt_seq bound"
    return {re.search(r"consumed\.model = '(\w+)'", bound).group(1): bound for bound in found}


def test_reads_of_rebuilt_rows_start_at_the_run_that_consumed_the_batches(day, whole, tmp_path):
    """A model reads its upstream's rows from the run in which that consumed the batch on: its own run when both
    run together; an earlier run when the upstream ran alone and the rest catches up later (a downstream model
    that failed, or was not selected). fct_parcels reads the merge chain's assignments, fct_orders and
    fct_order_price_checks the current statuses (and the price options), fct_exceptions the batch's orders in
    fct_orders.
    Either way the marts equal a full rebuild."""
    patch = pytest.MonkeyPatch()
    upstream = "+int_parcels__assignments"  # the merge chain, with the current statuses it reads
    steps = [  # (load a batch, dbt selection)
        (True, []),
        (True, ["--select", upstream]),
        (False, ["--exclude", upstream]),  # the rest catches up on the batch the upstream consumed
        (True, []),
        (True, []),
    ]
    readers = dict.fromkeys((3, 4), ("fct_parcels", "fct_orders", "fct_order_price_checks", "fct_exceptions"))
    try:
        keyed = KeyedDbt(tmp_path / "dbt", patch)
        warehouse_file = tmp_path / "orderhub.duckdb"
        per_batch = math.ceil(len(discover(day)) / 4)
        bounds = {}
        for number, (load, selection) in enumerate(steps, start=1):
            con = warehouse.connect(warehouse_file)
            try:
                run_batch(con, day, max_files=per_batch if load else 0)
            finally:
                con.close()
            keyed(warehouse_file, [*MICRO_BATCH, *selection])
            if number in readers:
                con = duckdb.connect(str(_copy(warehouse_file)), read_only=True)
                try:
                    this_run = con.execute("select max(seq) from pipeline.invocations").fetchone()[0]
                    bounds[number] = {
                        (reader, upstream_model): (con.execute(f"select {bound}").fetchone()[0], this_run)
                        for reader in readers[number]
                        for upstream_model, bound in rebuilt_bounds(keyed.compiled_sql(reader)).items()
                    }
                finally:
                    con.close()
        assert differences(whole, warehouse_file) == {}
    finally:
        patch.undo()
    caught_up = bounds[3]
    assert set(caught_up) == {
        ("fct_parcels", "int_parcels__assignments"),
        ("fct_orders", "int_orders__current_status"),
        ("fct_order_price_checks", "int_orders__current_status"),
        ("fct_order_price_checks", "int_pricing__order_price_options"),
        ("fct_exceptions", "fct_orders"),
    }
    # The chain and the statuses consumed batch 2 in run 2; the price options and fct_orders (not upstream of the
    # chain) in run 3.
    for (reader, upstream_model), (bound, its_run) in caught_up.items():
        if upstream_model in ("int_pricing__order_price_options", "fct_orders"):
            assert bound == its_run, reader
        else:
            assert 0 < bound < its_run, (reader, upstream_model)
    together = bounds[4]
    assert set(together) == set(caught_up)
    assert all(bound == their_run for bound, their_run in together.values()), together
