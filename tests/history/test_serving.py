"""The serving snapshot's copy in ClickHouse (history/serving.py), against the real engine (chdb) and a real
DuckDB snapshot file: what is copied, that a reader never sees a mix of two publishes, republishing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from history import serving
from history.client import connect, connect_when_free

# Every column type a snapshot holds (and HUGEINT, which DuckDB's sum() of BIGINTs gives, at 38 digits), NULLs, text that
# needs no less care than a phone number and a Chinese name, a value at the edge of DECIMAL(18,2).
TABLES = {
    "fct_daily_channel_summary": (
        "business_date DATE, channel VARCHAR, orders BIGINT, paid_amount DECIMAL(18,2), share DOUBLE, "
        "files INTEGER, total HUGEINT, is_balanced BOOLEAN, started_at TIMESTAMP",
        [
            "('2026-11-26', 'app', 120, 4567.80, 0.25, 2, 99999999999999999999999999999999999999, true, "
            "'2026-11-26 01:00:00.123456')",
            "('1969-12-31', '美团 13812345678 张伟', NULL, 9999999999999999.99, NULL, NULL, NULL, NULL, NULL)",
        ],
    ),
    "snapshot_meta": (
        "published_at TIMESTAMP, latest_order_at TIMESTAMP, run_id VARCHAR",
        ["('2026-11-26 03:00:00', '2026-11-26 02:59:30', '{run_id}')"],
    ),
    "dispatch_unassigned": ("parcel_id VARCHAR, reason VARCHAR", []),
}


def write_snapshot(path: Path, run_id: str = "run-001", *, tables: dict | None = None) -> Path:
    """A snapshot file as the pipeline publishes one (every table in main)."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        for table, (columns, rows) in (tables or TABLES).items():
            con.execute(f"CREATE TABLE {table} ({columns})")
            if rows:
                con.execute(f"INSERT INTO {table} VALUES {', '.join(rows)}".replace("{run_id}", run_id))
    finally:
        con.close()
    return path


def read_back(client, publish: serving.Publish) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    serving.load_into_duckdb(con, publish, serving.read_tables(client, publish))
    return con


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def described(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


@pytest.fixture
def client(tmp_path: Path) -> Iterator:
    """A client on a chdb folder of this test's own, closed after it: chdb hosts one folder per process, and a
    closed client lets the next test open another."""
    ch = connect(f"chdb://{tmp_path / 'ch'}")
    yield ch
    ch.close()


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "serving.duckdb")


def test_every_table_is_copied_with_its_rows_and_types(client, snapshot):
    """Reading the copy back into DuckDB gives the snapshot's tables exactly: the same rows (money, times to the
    microsecond, dates before 1970, a HUGEINT of 38 digits, NULLs, Chinese text) and the same column types,
    so page queries written for the file give the same figures."""
    counts = serving.publish_snapshot(client, snapshot)
    assert counts == {"fct_daily_channel_summary": 2, "snapshot_meta": 1, "dispatch_unassigned": 0}
    publish = serving.latest_publish(client)
    assert publish is not None and publish.version == 1 and publish.rows == counts
    copy = read_back(client, publish)
    source = duckdb.connect(str(snapshot), read_only=True)
    try:
        for table in TABLES:
            assert table_rows(copy, table) == table_rows(source, table), table
            assert described(copy, table) == described(source, table), table
    finally:
        source.close()
    # For people querying ClickHouse by hand, each table's view shows the current version.
    assert client.command("SELECT count() FROM orderhub_serving.fct_daily_channel_summary") == 2


def test_nothing_published_reads_as_none(client):
    assert serving.latest_publish(client) is None


def test_a_reader_keeps_its_version_while_a_new_one_is_published(client, tmp_path):
    """A reader that took the pointer before a publish reads that version's tables whole, never the new rows:
    the new version becomes visible only with its pointer row, after all its tables are complete."""
    serving.publish_snapshot(client, write_snapshot(tmp_path / "a.duckdb", "run-001"))
    before = serving.latest_publish(client)
    serving.publish_snapshot(client, write_snapshot(tmp_path / "b.duckdb", "run-002"))
    after = serving.latest_publish(client)
    assert (before.version, after.version) == (1, 2)
    assert table_rows(read_back(client, before), "snapshot_meta")[0][2] == "run-001"
    assert table_rows(read_back(client, after), "snapshot_meta")[0][2] == "run-002"


def test_a_publish_that_dies_before_its_pointer_leaves_the_previous_version_current(client, tmp_path, monkeypatch):
    """Killed after writing its tables but before the pointer row: readers still get the previous version,
    whole; the next publish takes a new number past the leftover tables and drops them."""
    serving.publish_snapshot(client, write_snapshot(tmp_path / "a.duckdb", "run-001"))
    real_insert = client.insert

    def dies(table, *args, **kwargs):
        if table == serving.POINTER:
            raise RuntimeError("killed before the pointer")
        return real_insert(table, *args, **kwargs)

    monkeypatch.setattr(client, "insert", dies)
    with pytest.raises(RuntimeError, match="killed before the pointer"):
        serving.publish_snapshot(client, write_snapshot(tmp_path / "b.duckdb", "run-002"))
    current = serving.latest_publish(client)
    assert current.version == 1
    assert table_rows(read_back(client, current), "snapshot_meta")[0][2] == "run-001"
    assert client.command("SELECT count() FROM system.tables WHERE name = 'snapshot_meta__v2'") == 1

    monkeypatch.setattr(client, "insert", real_insert)
    serving.publish_snapshot(client, write_snapshot(tmp_path / "c.duckdb", "run-003"))
    current = serving.latest_publish(client)
    assert current.version == 3
    assert table_rows(read_back(client, current), "snapshot_meta")[0][2] == "run-003"
    # The dead publish's tables are gone; versions 1 and 3 stay (a reader may still hold version 1).
    left = {
        name
        for (name,) in client.query("SELECT name FROM system.tables WHERE database = 'orderhub_serving'").result_rows
    }
    assert "snapshot_meta__v2" not in left and {"snapshot_meta__v1", "snapshot_meta__v3"} <= left


def test_republishing_keeps_the_newest_versions_and_follows_the_snapshots_tables(client, tmp_path):
    """Every publish is a new version; the newest KEEP_VERSIONS stay, older ones are dropped (a reader still
    holding one is told so, and reads the current one; so is a reader of a version that is not whole where it
    reads); a table the snapshot no longer has is not in the new version, nor left as a view."""
    for number in range(1, 6):
        serving.publish_snapshot(client, write_snapshot(tmp_path / f"{number}.duckdb", f"run-00{number}"))
    names = {
        name
        for (name,) in client.query("SELECT name FROM system.tables WHERE database = 'orderhub_serving'").result_rows
    }
    kept = {name for name in names if name.startswith("snapshot_meta__v")}
    assert kept == {f"snapshot_meta__v{v}" for v in range(6 - serving.KEEP_VERSIONS, 6)}

    old = serving.Publish(1, serving.latest_publish(client).published_at, "", {"snapshot_meta": ()}, {})
    with pytest.raises(serving.VersionGone):
        serving.read_tables(client, old)

    # A version whose tables do not hold what was published (a replica behind, on a cluster) is not read as it is.
    client.command("INSERT INTO orderhub_serving.snapshot_meta__v5 (run_id) VALUES ('half-replicated')")
    with pytest.raises(serving.VersionGone, match="snapshot_meta has 2 rows here, 1 were published"):
        serving.read_tables(client, serving.latest_publish(client))

    fewer = {table: spec for table, spec in TABLES.items() if table != "dispatch_unassigned"}
    serving.publish_snapshot(client, write_snapshot(tmp_path / "6.duckdb", "run-006", tables=fewer))
    current = serving.latest_publish(client)
    assert set(current.tables) == {"fct_daily_channel_summary", "snapshot_meta"}
    views = {
        name
        for (name,) in client.query(
            "SELECT name FROM system.tables WHERE database = 'orderhub_serving' AND engine = 'View'"
        ).result_rows
    }
    assert views == {"fct_daily_channel_summary", "snapshot_meta"}


def test_a_column_the_copy_cannot_carry_is_refused_before_anything_is_written(client, tmp_path):
    """A list column (ClickHouse arrays cannot be NULL: a NULL list would come back empty) is named in the
    error, and nothing is published."""
    bad = dict(TABLES, fct_oversell_events=("order_key VARCHAR, tags VARCHAR[]", ["('app:1', NULL)"]))
    with pytest.raises(serving.ServingCopyError, match=r"fct_oversell_events\.tags: DuckDB type VARCHAR\[\]"):
        serving.publish_snapshot(client, write_snapshot(tmp_path / "bad.duckdb", tables=bad))
    assert serving.latest_publish(client) is None


def test_a_missing_snapshot_is_a_clear_error(client, tmp_path):
    with pytest.raises(FileNotFoundError, match="no serving snapshot at"):
        serving.publish_snapshot(client, tmp_path / "none.duckdb")


HOLD_FOLDER = """
import sys, time
from history.client import connect, connect_when_free
client = connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
client.close()
"""


def test_connecting_waits_while_another_process_holds_the_chdb_folder(tmp_path):
    """chdb locks its folder to one process: the pipeline and the dashboards take turns, so a connect waits for
    the other process to let go (and gives up, with the engine's error, when told not to wait)."""
    dsn = f"chdb://{tmp_path / 'ch'}"
    root = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOLDER, dsn, "2"], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Exception, match="EmbeddedServer"):
            connect_when_free(dsn, wait_seconds=0)
        started = time.monotonic()
        client = connect_when_free(dsn, wait_seconds=15)
        waited = time.monotonic() - started
        client.close()
    finally:
        holder.wait(timeout=30)
    assert 0.5 < waited < 15
