"""Which checks run how often: every micro-batch pays only for the checks that guard what it just changed.

A micro-batch rebuilds the marts incrementally (only the orders, addresses and days it touched), so what can
break there is a key or an invariant the incremental logic must keep: those dbt tests (the *critical* ones)
run every micro-batch, beside the Great Expectations suites on the batch's own rows. Every other dbt test
and the mart GX suites read whole tables, cost seconds each and say the same thing as an hour ago unless
something upstream changed: they run on the checks schedule and after the nightly full rebuild, and their
results land where they always do (Dagster's check history; `dq.dq_results` for GX). The checks job runs the
critical tests too, over whole tables: a micro-batch runs them on the partitions it rebuilt only.

Critical, by rule rather than by list so a new model gets it without anyone remembering: the uniqueness
tests (`unique`, `unique_combination`) on tables and raw sources, and the singular tests (tests/*.sql: the
cross-model invariants: every item in one parcel, parcels within limits, merge savings add up, stock
conservation, ingest accounting). The other tests on raw sources are not: ingestion's own accounting check and
the GX batch suites cover every batch's rows. Nor are the keys of views: a micro-batch writes no view's rows
(it leaves the views as they are), a view computes all of them when read (at 600k orders the merge decisions
and the stock movements views cost 5-7 s each), and what is built from them is keyed and tested where it is
written.

A uniqueness test whose answer another critical test already gives opts out with
`meta: {left_out_of_micro_batches: <why>}` on the test: a key column that is a hash of a key combination tested
unique (fct_order_status_history's status_change_id, md5 of order_key|change_no) is unique exactly when that
combination is, and its own test read about 190 MB of incompressible hashes per batch at 2M orders, against
under 20 MB for the combination's (bench/results/scale.md, "What a batch reads from storage"). The checks job
and the nightly build still run it.

In a micro-batch those tests read only the partitions the batch rebuilt (dbt_project/macros/batch_scope.sql):
`scoped_to_batches` marks the dbt invocation as a micro-batch's for dbt, with a row in the warehouse rather
than a var (a var that changes per run makes dbt re-parse the project). Everywhere else they read whole tables.

The source keys also keep a behaviour the micro-batch relies on (orchestration/defs/quality/checks.py): Dagster
does not gate the dbt step on the raw tables' blocking GX checks while that step runs checks of the same raw
tables, so a broken channel's orders still reach the marts, flagged, and the run fails naming the check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

KEY_TESTS = frozenset({"unique", "unique_combination"})
# A test's meta key that leaves it out of the micro-batch, its value saying which critical test answers for it.
PER_MICRO_BATCH_OPT_OUT = "left_out_of_micro_batches"
# The micro-batch job carries this tag: its dbt step leaves the views as they are (nothing downstream in that
# job reads a view's materialization; the reconciliation job's finance step does, and waits on it).
MICRO_BATCH_TAG = "orderhub/micro_batch"
# A run with this tag rebuilds every dbt model from scratch (`--full-refresh`): the nightly job, and any run
# after a rules change, which invalidates every incremental row.
FULL_REFRESH_TAG = "orderhub/full_refresh"
# A row here while a dbt invocation runs scopes its tests to what it rebuilt (dbt_project/macros/batch_scope.sql).
TEST_SCOPE_TABLE = "pipeline.dbt_test_scope"


def is_critical(test: Mapping[str, Any], views: frozenset[str] = frozenset()) -> bool:
    """A dbt test node (from the manifest) that must pass on every micro-batch; `views`: the unique ids of the
    models materialized as views."""
    parents = test.get("depends_on", {}).get("nodes", [])
    if not parents:
        return False
    if test.get("config", {}).get("meta", {}).get(PER_MICRO_BATCH_OPT_OUT):
        return False
    metadata = test.get("test_metadata")
    if metadata is None:
        return not all(parent.startswith("source.") for parent in parents)
    return metadata.get("name") in KEY_TESTS and not set(parents) & views


def critical_test_names(manifest_path: Path) -> frozenset[str]:
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    views = frozenset(
        node["unique_id"]
        for node in nodes
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    )
    return frozenset(node["name"] for node in nodes if node["resource_type"] == "test" and is_critical(node, views))


def split_dbt_checks(
    dbt_assets: Iterable[dg.AssetsDefinition], critical_names: frozenset[str]
) -> tuple[list[dg.AssetCheckKey], list[dg.AssetCheckKey]]:
    """The dbt assets' checks as (critical, scheduled)."""
    keys = [key for assets in dbt_assets for key in assets.check_keys]
    critical = [key for key in keys if key.name in critical_names]
    return critical, [key for key in keys if key.name not in critical_names]


def wants_full_refresh(tags: Mapping[str, str]) -> bool:
    return tags.get(FULL_REFRESH_TAG, "").lower() == "true"


def is_micro_batch(tags: Mapping[str, str]) -> bool:
    return tags.get(MICRO_BATCH_TAG, "").lower() == "true"


@contextmanager
def scoped_to_batches(connect, scoped: bool) -> Iterator[None]:
    """Yields while dbt runs with its tests scoped to the batches it consumed (`scoped`) or reading whole tables;
    whole again afterwards, so a later `dbt build` by hand reads whole tables. `connect` opens a warehouse
    connection, closed before dbt runs (DuckDB allows one writer process)."""
    _set_scope(connect, scoped)
    try:
        yield
    finally:
        _set_scope(connect, False)


def _set_scope(connect, scoped: bool) -> None:
    with connect() as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS pipeline")
        con.execute(f"CREATE TABLE IF NOT EXISTS {TEST_SCOPE_TABLE} (scope VARCHAR)")
        con.execute(f"DELETE FROM {TEST_SCOPE_TABLE}")
        if scoped:
            con.execute(f"INSERT INTO {TEST_SCOPE_TABLE} VALUES ('micro_batch')")
