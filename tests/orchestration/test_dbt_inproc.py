"""The parts of dbt_inproc.py that do not need a dbt run: the libraries' internals it relies on are the ones
it was checked against, and the project fingerprint moves when a file dbt parses moves, and only then. A run
through the pipeline: tests/e2e/test_dbt_in_process.py."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

from orchestration.defs.transform.dbt_inproc import RESULT_EVENTS, project_fingerprint


def test_the_library_internals_it_relies_on_are_those_it_was_checked_against():
    # dbt_inproc.py uses dagster-dbt's selection builder and event class, dagster's interrupt helper and
    # dbt-duckdb's connection manager: none of them public API. A new version needs its code read again.
    assert version("dagster-dbt") == "0.29.27"
    assert version("dagster") == "1.13.27"
    assert version("dbt-duckdb").startswith("1.11.")
    assert version("dbt-core").startswith("1.11.")
    from dagster._utils.interrupts import raise_interrupts_as  # noqa: F401
    from dagster_dbt.asset_utils import get_subset_selection_for_context  # noqa: F401
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    assert hasattr(DuckDBConnectionManager, "_ENV") and hasattr(DuckDBConnectionManager, "_LOCK")
    assert hasattr(DbtCoreCliEventMessage, "to_default_asset_events")
    # The events dagster-dbt's Core event class turns into Dagster events are the ones kept.
    constants = DbtCoreCliEventMessage.is_result_event.fget.__code__.co_consts
    names = {c for c in constants if isinstance(c, str)}
    names |= {n for c in constants if isinstance(c, tuple) for n in c}
    assert RESULT_EVENTS <= names


def test_the_fingerprint_moves_with_what_dbt_parses_and_nothing_else(tmp_path):
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "target").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    model = tmp_path / "models" / "marts" / "m.sql"
    model.write_text("select 1")
    before = project_fingerprint(tmp_path)

    (tmp_path / "target" / "run_results.json").write_text("{}")  # dbt's own output
    assert project_fingerprint(tmp_path) == before

    model.write_text("select 2")
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 1_000_000))
    edited = project_fingerprint(tmp_path)
    assert edited != before

    (tmp_path / "macros").mkdir()
    (tmp_path / "macros" / "new.sql").write_text("{% macro x() %}1{% endmacro %}")
    assert project_fingerprint(tmp_path) != edited


def test_old_run_folders_are_pruned_recent_ones_never(tmp_path: Path) -> None:
    """A day of micro-batches writes a run folder each: beyond the newest RUN_TARGETS_KEPT, folders older than
    a day go; a recent one stays whatever the count (another process may be running in it)."""
    import time

    from orchestration.defs.transform.dbt import RUN_TARGETS_KEPT, prune_run_targets

    now = time.time()
    for n in range(RUN_TARGETS_KEPT + 5):
        folder = tmp_path / f"orderhub_dbt-{n:03d}"
        folder.mkdir()
        age = 2 * 86400 + n if n < 5 else 60  # five old ones (and the oldest of all), the rest recent
        os.utime(folder, (now - age, now - age))
    for n in range(3):
        (tmp_path / f"orderhub_dbt-recent-{n}").mkdir()
    (tmp_path / "other_asset-old").mkdir()
    os.utime(tmp_path / "other_asset-old", (now - 5 * 86400, now - 5 * 86400))

    assert prune_run_targets(tmp_path, prefix="orderhub_dbt-") == 5
    left = {p.name for p in tmp_path.iterdir()}
    assert not any(f"orderhub_dbt-{n:03d}" in left for n in range(5))
    assert len([name for name in left if name.startswith("orderhub_dbt-")]) == RUN_TARGETS_KEPT + 3
    assert "other_asset-old" in left
