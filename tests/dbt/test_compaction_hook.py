"""dbt follows the orchestrator's compaction decision (orchestration/compaction.py): a micro-batch's invocation
between merging runs turns DuckDB's checkpoint vacuum off; any other invocation turns it back on, whatever an
earlier run left in the table (dbt_project/macros/batch_scope.sql)."""

from __future__ import annotations

import json

import duckdb
import pytest
from dbt_harness import run_dbt


def _hook_sql(target) -> str:
    results = json.loads((target / "run_results.json").read_text())["results"]
    hooks = [r["compiled_code"].strip() for r in results if r["unique_id"].startswith("operation.")]
    return next(sql for sql in hooks if "max_vacuum_tasks" in sql)


def _mark(warehouse, *, scope: str | None, deferred: bool) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists pipeline")
        con.execute("create table if not exists pipeline.dbt_test_scope (scope varchar)")
        con.execute("create or replace table pipeline.compaction (merged_at timestamp, deferred boolean)")
        con.execute("delete from pipeline.dbt_test_scope")
        if scope:
            con.execute("insert into pipeline.dbt_test_scope values (?)", [scope])
        con.execute("insert into pipeline.compaction values (now()::timestamp, ?)", [deferred])
    finally:
        con.close()


@pytest.mark.parametrize(
    ("scope", "deferred", "expected"),
    [
        ("micro_batch", True, "set max_vacuum_tasks = 0"),
        ("micro_batch", False, "reset max_vacuum_tasks"),  # the micro-batch due to merge
        (None, True, "reset max_vacuum_tasks"),  # a build by hand after a deferring run
    ],
)
def test_the_hook_follows_the_run(warehouse_copy, tmp_path, scope, deferred, expected):
    _mark(warehouse_copy, scope=scope, deferred=deferred)
    result = run_dbt(["run", "--select", "stg_raw__stores"], warehouse_copy, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert _hook_sql(result.target_path) == expected
