"""The Dagster asset that copies the serving snapshot into ClickHouse: after the snapshot, in the jobs that
publish it, only with a DSN; a failed copy fails its own step, visibly, and leaves the snapshot published."""

from __future__ import annotations

import socket
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from history import serving as serving_copy
from history.client import connect
from ingestion import warehouse
from orchestration.defs.history.serving import KEY, history_serving
from orchestration.defs.serving.assets import serving_snapshot
from orchestration.resources import ClickHouse, OrderhubPaths
from orchestration.settings import PROJECT_ROOT, Settings


@pytest.fixture
def paths(tmp_path: Path) -> OrderhubPaths:
    """A warehouse with the raw schema and nothing loaded: the snapshot publishes its status tables."""
    warehouse.connect(tmp_path / "wh.duckdb").close()
    return OrderhubPaths(
        landing=str(tmp_path / "landing"),
        warehouse=str(tmp_path / "wh.duckdb"),
        serving=str(tmp_path / "serving.duckdb"),
        rules=str(PROJECT_ROOT / "config" / "rules.yml"),
    )


def materialize(paths: OrderhubPaths, dsn: str):
    return dg.materialize(
        [serving_snapshot, history_serving],
        resources={"paths": paths, "clickhouse": ClickHouse(dsn=dsn)},
        raise_on_error=False,
    )


def test_the_copy_follows_the_snapshot_into_clickhouse(paths: OrderhubPaths, tmp_path: Path):
    """The snapshot is published, then copied: ClickHouse's current version holds the very snapshot that was
    published (its run id), and the step's metadata counts its rows."""
    dsn = f"chdb://{tmp_path / 'ch'}"
    result = materialize(paths, dsn)
    assert result.success
    snapshot = duckdb.connect(paths.serving, read_only=True)
    try:
        run_id = snapshot.execute("SELECT run_id FROM snapshot_meta").fetchall()[0][0]
    finally:
        snapshot.close()
    metadata = result.asset_materializations_for_node("history__serving")[0].metadata
    assert metadata["version"].value == 1 and metadata["rows.snapshot_meta"].value == 1

    client = connect(dsn)
    try:
        assert client.command("SELECT run_id FROM orderhub_serving.snapshot_meta") == run_id
        assert serving_copy.latest_publish(client).version == 1
    finally:
        client.close()


def test_a_failed_copy_fails_its_step_and_leaves_the_snapshot_published(paths: OrderhubPaths):
    """ClickHouse unreachable: the copy's step fails with the reason (so the run is failed and says why), the
    snapshot before it was published all the same."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = materialize(paths, f"http://127.0.0.1:{port}")
    assert not result.success
    assert result.is_node_success("serving__snapshot") and result.is_node_failed("history__serving")
    failure = result.failure_data_for_node("history__serving").error
    while failure.cause is not None:
        failure = failure.cause
    assert f"copy of the serving snapshot to ClickHouse http://127.0.0.1:{port} (orderhub_serving) failed" in (
        failure.message
    )
    assert "Connection refused" in failure.message
    assert Path(paths.serving).is_file()


@pytest.mark.slow  # builds the Dagster definitions
def test_the_copy_is_wired_only_with_a_dsn(tmp_path: Path):
    """With a DSN: in the micro-batch and nightly jobs after the snapshot, and in the publish job that
    publishes for a failed run. Without one: not there at all (the definitions snapshot stays as it was)."""
    from orchestration.definitions import FULL_REBUILD_JOB, PIPELINE_JOB, PUBLISH_JOB, build_definitions

    def settings(env: dict[str, str]) -> Settings:
        return Settings.from_env(env, landing=tmp_path / "landing", warehouse=tmp_path / "wh.duckdb")

    key = dg.AssetKey(KEY)
    with_dsn = build_definitions(settings({"ORDERHUB_CLICKHOUSE_DSN": f"chdb://{tmp_path / 'ch'}"}))
    graph = with_dsn.resolve_asset_graph()
    assert graph.get(key).parent_keys == {dg.AssetKey(["serving", "snapshot"])}
    for job in (PIPELINE_JOB, FULL_REBUILD_JOB, PUBLISH_JOB):
        assert key in with_dsn.resolve_job_def(job).asset_layer.selected_asset_keys, job

    without = build_definitions(settings({}))
    assert key not in without.resolve_asset_graph().get_all_asset_keys()
