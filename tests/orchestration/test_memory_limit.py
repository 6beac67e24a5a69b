"""DuckDB's memory_limit reaches every connection the pipeline opens and dbt's: its block cache would otherwise
grow with the warehouse to 80% of the machine's memory."""

from __future__ import annotations

import json

import pytest

from orchestration.defs.transform.dbt import MEMORY_LIMIT_VAR, with_warehouse_var
from orchestration.resources import Warehouse
from orchestration.rules import dbt_vars
from orchestration.settings import PROJECT_ROOT, Settings


def test_the_setting_is_read_checked_and_handed_to_children():
    settings = Settings.from_env({"ORDERHUB_DUCKDB_MEMORY_LIMIT": "3GB"})
    assert settings.duckdb_memory_limit == "3GB"
    assert settings.child_env({})["ORDERHUB_DUCKDB_MEMORY_LIMIT"] == "3GB"
    assert Settings.from_env({}).duckdb_memory_limit == "6GB"
    with pytest.raises(ValueError, match="ORDERHUB_DUCKDB_MEMORY_LIMIT"):
        Settings.from_env({"ORDERHUB_DUCKDB_MEMORY_LIMIT": "a lot"})


def test_the_pipelines_connections_are_held_to_it(tmp_path):
    warehouse = Warehouse(path=str(tmp_path / "wh.duckdb"), memory_limit="512MiB")
    with warehouse.connect() as con:
        assert con.execute("SELECT current_setting('memory_limit')").fetchall() == [("512.0 MiB",)]


def test_dbt_is_held_to_it(tmp_path):
    from dbt.cli.main import dbtRunner

    args = with_warehouse_var(
        ["show", "--vars", dbt_vars(Settings.from_env({}).rules)], str(tmp_path / "wh.duckdb"), "768MiB"
    )
    assert json.loads(args[args.index("--vars") + 1])[MEMORY_LIMIT_VAR] == "768MiB"
    project = PROJECT_ROOT / "dbt_project"
    result = dbtRunner().invoke(
        [
            *args,
            "--inline",
            "select current_setting('memory_limit') as memory_limit",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    assert [row["memory_limit"] for row in result.result.results[0].agate_table] == ["768.0 MiB"]
