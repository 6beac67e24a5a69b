"""Replaying a day's landing files: the same files delivered twice, and the files loaded one batch at a time
in reverse order, give the same warehouse as one clean load — the same orders, lines, status events,
settlement lines and quarantine, and the same per-channel accounting. (Which *version* of an order fills
raw.orders depends on arrival order by design — the first seen — so its status columns are compared through
the events; tests/dbt/test_status_history_shuffled.py shows the marts agree.)"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ingestion import warehouse
from ingestion.landing import discover
from ingestion.loader import run_batch
from simulator import simulate_day

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# Columns of raw.orders that do not depend on which push of an order arrived first.
ORDER_COLUMNS = (
    "order_key",
    "channel",
    "store_id",
    "recipient_name",
    "phone",
    "address_key",
    "lat",
    "lng",
    "created_at",
    "paid_amount",
    "goods_amount",
    "fulfilment_type",
)


def state(con) -> dict[str, object]:
    def rows(sql: str) -> list[tuple]:
        return con.execute(sql + " ORDER BY ALL").fetchall()

    return {
        "orders": rows(f"SELECT {', '.join(ORDER_COLUMNS)} FROM raw.orders"),
        # which batch wrote an order's lines (its applied version's) depends on arrival order
        "order_lines": rows("SELECT * EXCLUDE (batch_id) FROM raw.order_lines"),
        # an event's `source` is the push that first reported it, which depends on arrival order
        "order_events": rows("SELECT order_key, status, event_time FROM raw.order_events"),
        # which of two identical pushes is "the" version and which the duplicate depends on arrival: not its source
        "versions": rows("SELECT order_key, raw_hash FROM raw.order_versions"),
        "settlement_lines": rows("SELECT * EXCLUDE (batch_id) FROM raw.settlement_lines"),
        "quarantine": rows("SELECT channel, source_file, source_line, error_code, message FROM raw.quarantine"),
        "accounting": rows(
            "SELECT channel, sum(landed), sum(loaded), sum(quarantined), sum(duplicate) "
            "FROM raw.ingest_batches GROUP BY channel"
        ),
    }


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    """A day with every kind of bad record, duplicate and late status push (smaller than the session's day:
    one batch per file is what this costs)."""
    landing = tmp_path_factory.mktemp("replay") / "landing"
    simulate_day(dt.date(2026, 11, 25), orders=800, seed=17, out=landing)
    return landing


@pytest.fixture(scope="module")
def clean(day, tmp_path_factory):
    landing = day
    con = warehouse.connect(tmp_path_factory.mktemp("once") / "wh.duckdb")
    run_batch(con, landing)
    yield con
    con.close()


def test_files_in_reverse_order_one_batch_each_give_the_same_result(day, clean, tmp_path):
    """Reference data first (as the landing contract loads it), then every order and statement file in reverse
    order, each its own micro-batch: the same rows and the same totals per channel as one clean batch."""
    landing = day
    files = discover(landing)
    reference = [f for f in files if f.kind == "reference"]
    others = [f for f in files if f.kind != "reference"][::-1]
    replay = tmp_path / "landing"
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        for group in [reference, *([f] for f in others)]:
            for file in group:
                target = replay / file.relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file.path, target)
            run_batch(con, replay)
        assert con.execute("SELECT count(DISTINCT batch_id) FROM raw.ingest_batches").fetchone()[0] == len(others) + 1
        assert state(con) == state(clean)
    finally:
        con.close()


def test_the_same_files_delivered_twice_change_nothing(day, tmp_path):
    """Every order and statement file delivered again under a new name (a channel retrying its whole day):
    no new order, line, event or statement line; the second delivery's records are all duplicates or
    quarantined again (bad records stay bad), and every batch balances."""
    landing = day
    copy = tmp_path / "landing"
    shutil.copytree(landing, copy)
    con = warehouse.connect(tmp_path / "wh.duckdb")
    try:
        run_batch(con, copy)
        before = state(con)
        for file in discover(copy):
            if file.kind != "reference":
                shutil.copyfile(file.path, file.path.with_name("zz-again-" + file.path.name))
        again = run_batch(con, copy)
        after = state(con)
        for table in ("orders", "order_lines", "order_events", "settlement_lines"):
            assert after[table] == before[table], table
        for label, counts in again.counts.items():
            assert counts.loaded == 0, label
            assert counts.landed == counts.duplicate + counts.quarantined, label
        unbalanced = con.execute(
            "SELECT count(*) FROM raw.ingest_batches WHERE landed <> loaded + quarantined + duplicate"
        ).fetchone()[0]
        assert unbalanced == 0
    finally:
        con.close()
