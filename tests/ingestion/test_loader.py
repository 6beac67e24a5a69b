"""The micro-batch loader on a whole simulated day: every record is accounted for exactly as the
simulator's ground truth says, and loading is idempotent (same files, same orders, copied files)."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from ingestion import warehouse
from ingestion.loader import run_batch


@pytest.fixture
def loaded(simulated_day, tmp_path):
    landing, truth = simulated_day
    con = warehouse.connect(tmp_path / "wh.duckdb")
    result = run_batch(con, landing)
    yield con, result, landing, truth
    con.close()


def test_row_accounting_matches_ground_truth_per_channel(loaded):
    """For every channel: landed = loaded + quarantined + duplicate, and each count equals the truth."""
    con, result, _, truth = loaded
    rows = con.execute(
        "select channel, landed, loaded, quarantined, duplicate from raw.ingest_batches "
        "where channel not like 'reference/%' and channel not like 'settlement/%'"
    ).fetchall()
    assert rows, "no order channels were loaded"
    for channel, landed, loaded_, quarantined, duplicate in rows:
        assert landed == loaded_ + quarantined + duplicate, channel
        expected = truth["records_by_channel"][channel]
        assert (landed, loaded_, quarantined, duplicate) == (
            expected["landed"],
            expected["loaded"],
            expected["quarantined"],
            expected["duplicate"],
        ), channel
    assert {r[0] for r in rows} == set(truth["records_by_channel"])


def test_every_bad_record_is_quarantined_with_the_expected_reason(loaded):
    """Quarantine holds exactly the injected bad records (file, line, error code), and nothing else."""
    con, *_, truth = loaded
    found = set(
        con.execute(
            "select source_file, source_line, error_code from raw.quarantine where channel not like 'reference/%'"
        ).fetchall()
    )
    expected = {(b["file"], b["line"], b["error_code"]) for b in truth["bad_records"]}
    assert found == expected
    kinds = Counter(code for *_, code in expected)
    for kind in ("missing_field", "bad_phone", "unknown_sku", "bad_quantity", "broken_json", "malformed_row"):
        assert kinds[kind] > 0, f"the simulated day has no {kind} record, so this test proves nothing about it"


def test_loaded_orders_are_exactly_the_valid_orders(loaded):
    """Every valid order of the truth is in raw.orders once, with its lines and a created event."""
    con, *_, truth = loaded
    orders = {r[0] for r in con.execute("select order_key from raw.orders").fetchall()}
    assert orders == set(truth["order_customer"])
    assert len(orders) == truth["orders"]
    without_lines = con.execute(
        "select count(*) from raw.orders o where not exists (select 1 from raw.order_lines l where l.order_key = o.order_key)"
    ).fetchone()[0]
    without_created = con.execute(
        "select count(*) from raw.orders o where not exists "
        "(select 1 from raw.order_events e where e.order_key = o.order_key and e.status = 'created')"
    ).fetchone()[0]
    assert without_lines == 0 and without_created == 0
    cancelled = {r[0] for r in con.execute("select order_key from raw.orders where status = 'cancelled'").fetchall()}
    assert cancelled == set(truth["cancelled"])


def test_rerun_over_the_same_landing_loads_nothing_new(loaded):
    """The checkpoint makes a second run a no-op: no batch, no new rows."""
    con, first, landing, _ = loaded
    before = con.execute("select count(*) from raw.orders").fetchone()[0]
    second = run_batch(con, landing)
    assert first.files > 0 and second.files == 0 and second.batch_id is None
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == before


def test_a_file_pushed_again_under_a_new_name_is_all_duplicates(loaded, tmp_path):
    """Re-delivering a whole file (a channel retrying its push) loads nothing twice: every valid record
    counts as a duplicate, bad ones are quarantined again at their new location, and the batch balances."""
    con, _, landing, _ = loaded
    source = next(p for p in sorted((landing / "orders" / "meituan").rglob("*.jsonl")))
    shutil.copyfile(source, source.with_name("zz-redelivered-" + source.name))
    try:
        before = con.execute("select count(*) from raw.orders").fetchone()[0]
        again = run_batch(con, landing)
        counts = again.counts["meituan"]
        assert again.files == 1 and counts.loaded == 0
        assert counts.landed == counts.duplicate + counts.quarantined
        assert con.execute("select count(*) from raw.orders").fetchone()[0] == before
    finally:
        source.with_name("zz-redelivered-" + source.name).unlink()
