"""The orchestrator's mark that a dbt invocation is a micro-batch's (its tests then read what it rebuilt): set
for the length of the invocation only, so a `dbt build` by hand afterwards, or after a failed one, reads whole
tables (dbt_project/macros/batch_scope.sql reads the row; tests/dbt/test_scoped_checks.py proves the scoping)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.defs.transform.cadence import TEST_SCOPE_TABLE, scoped_to_batches


def _rows(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse))
    try:
        return con.execute(f"SELECT * FROM {TEST_SCOPE_TABLE}").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("scoped", [True, False])
def test_the_mark_lasts_as_long_as_the_invocation(tmp_path, scoped):
    warehouse = tmp_path / "orderhub.duckdb"

    def connect():
        return duckdb.connect(str(warehouse))

    with scoped_to_batches(connect, scoped):
        assert bool(_rows(warehouse)) is scoped
    assert _rows(warehouse) == []


def test_a_failed_invocation_leaves_no_mark(tmp_path):
    warehouse = tmp_path / "orderhub.duckdb"

    def connect():
        return duckdb.connect(str(warehouse))

    with pytest.raises(RuntimeError), scoped_to_batches(connect, True):
        raise RuntimeError("dbt failed")
    assert _rows(warehouse) == []
