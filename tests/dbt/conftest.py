"""Fixtures for the dbt project tests. `dbt build` runs once per test session (`built_warehouse`); tests
that change data work on a copy of that warehouse file so they never disturb each other.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import BuiltWarehouse, create_raw_warehouse, run_dbt


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The base dataset after one full `dbt build` (models, data tests and unit tests)."""
    workdir = tmp_path_factory.mktemp("dbt_build")
    warehouse = workdir / "orderhub.duckdb"
    create_raw_warehouse(warehouse)
    result = run_dbt(["build"], warehouse, workdir)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}"
    return BuiltWarehouse(warehouse, result)


@pytest.fixture(scope="session")
def marts(built_warehouse: BuiltWarehouse) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """Run a query against the built warehouse (read-only) and return all rows."""
    con = duckdb.connect(str(built_warehouse.path), read_only=True)
    try:
        yield lambda sql: con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def warehouse_copy(built_warehouse: BuiltWarehouse, tmp_path: Path) -> Path:
    """A private copy of the built warehouse, for tests that change data and run dbt again."""
    copy = tmp_path / "orderhub.duckdb"
    shutil.copyfile(built_warehouse.path, copy)
    return copy
