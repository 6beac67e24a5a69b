"""Stored orders keyed again under new address rules (ingestion/address_rekey.py).

The oracle is ingestion itself: a simulated day loaded under the current rules holds the keys those rules give.
The tests make the stored columns stale (as a warehouse loaded under older rules has them) and check that a
re-key brings back exactly what ingestion wrote, Meituan's orders whose district only the reverse-geocoded
text gives included.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from ingestion import address_rekey, addresses, warehouse
from ingestion.loader import run_batch

PARSED = ", ".join(addresses.PARSED_COLUMNS)


@pytest.fixture(scope="module")
def loaded_file(simulated_day, tmp_path_factory):
    landing, _ = simulated_day
    path = tmp_path_factory.mktemp("rekey") / "loaded.duckdb"
    con = warehouse.connect(path)
    run_batch(con, landing)
    con.close()
    return path


@pytest.fixture
def con(loaded_file, tmp_path):
    copy = tmp_path / "wh.duckdb"
    shutil.copy(loaded_file, copy)
    con = warehouse.connect(copy)
    yield con
    con.close()


def _versions(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(con.execute(f"SELECT order_key, raw_hash, {PARSED} FROM raw.order_history").fetchall())


def _orders(con: duckdb.DuckDBPyConnection) -> set[tuple]:
    return set(con.execute(f"SELECT order_key, {PARSED} FROM raw.orders").fetchall())


def _as_if_loaded_under_older_rules(con: duckdb.DuckDBPyConnection, where: str) -> None:
    """The rows `where` selects get the columns older rules could have given: another door key, no township."""
    for table in ("raw.orders", "raw.order_history"):
        con.execute(f"UPDATE {table} SET address_key = address_key || '-old', street = NULL WHERE {where}")
    con.execute(f"DELETE FROM {warehouse.MIGRATIONS} WHERE name = ?", [address_rekey.migration_name()])


def _district_from_the_reverse_geocode(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Meituan orders whose typed text alone names no district, or another one, than the one stored."""
    rows = con.sql(
        "SELECT order_key, address_raw, admin_code FROM raw.orders WHERE channel = 'meituan' AND admin_code IS NOT NULL"
    ).pl()
    alone = addresses.parse_addresses(rows["address_raw"])
    return [
        key for key, stored, own in zip(rows["order_key"], rows["admin_code"], alone["admin_code"]) if own != stored
    ]


def test_a_warehouse_loaded_under_the_current_rules_is_left_as_it_is(con):
    before = _versions(con)
    con.execute(f"DELETE FROM {warehouse.MIGRATIONS} WHERE name = ?", [address_rekey.migration_name()])

    done = address_rekey.rekey(con)

    with_text = con.execute("SELECT count(*) FROM raw.order_history WHERE address_raw IS NOT NULL").fetchall()[0][0]
    assert done is not None and done.versions == with_text > 0
    assert (done.changed_versions, done.changed_orders, done.kept_without_fallback) == (0, 0, 0)
    assert _versions(con) == before


def test_stale_columns_are_keyed_again_as_ingestion_keys_them(con):
    from_reverse = _district_from_the_reverse_geocode(con)
    assert from_reverse, "no Meituan order whose district only the reverse geocode gives: the day proves nothing"
    truth_versions, truth_orders = _versions(con), _orders(con)
    _as_if_loaded_under_older_rules(con, "address_key IS NOT NULL")
    stale = con.execute("SELECT count(*) FROM raw.orders WHERE address_key IS NOT NULL").fetchall()[0][0]

    done = address_rekey.rekey(con, rows_per_step=1_000)

    assert _versions(con) == truth_versions
    assert _orders(con) == truth_orders
    assert done.changed_orders == stale
    listed = con.execute(f"SELECT order_key, key_rules FROM {warehouse.ADDRESS_REKEYS}").fetchall()
    assert sorted(listed) == sorted(
        (key, addresses.KEY_RULES_VERSION)
        for (key,) in con.execute("SELECT order_key FROM raw.orders WHERE address_key IS NOT NULL").fetchall()
    )
    assert address_rekey.rekey(con) is None, "the same edition re-keyed twice"


def test_an_order_whose_district_text_cannot_be_read_again_keeps_its_district(con):
    """A record the adapter no longer reads: the typed text alone decides only where it gives the district
    the order has; elsewhere the stored columns stay (a missed merge, never a wrong one)."""
    from_reverse = _district_from_the_reverse_geocode(con)
    con.execute("UPDATE raw.order_history SET raw = 'not a record any more' WHERE channel = 'meituan'")
    meituan = "channel = 'meituan' AND address_key IS NOT NULL"
    truth = _orders(con)
    _as_if_loaded_under_older_rules(con, meituan)
    stale = {row[0]: row for row in _orders(con)}

    done = address_rekey.rekey(con)

    assert from_reverse and done.kept_without_fallback >= len(from_reverse)  # versions: an order has one or more
    after = {row[0]: row for row in _orders(con)}
    keyed = {row[0]: row for row in truth}
    for key in from_reverse:
        assert after[key] == stale[key]
    others = con.execute(f"SELECT order_key FROM raw.orders WHERE {meituan}").fetchall()
    assert len(others) > len(from_reverse)
    for (key,) in others:
        if key not in from_reverse:
            assert after[key] == keyed[key]


def test_a_rekey_cut_off_part_way_is_taken_up_by_the_next(con):
    truth = _orders(con)
    _as_if_loaded_under_older_rules(con, "address_key IS NOT NULL")
    stale = _orders(con)

    def cut_off(done: int, total: int) -> None:
        if done < total:
            raise KeyboardInterrupt("the process stopped after a step")

    with pytest.raises(KeyboardInterrupt):
        address_rekey.rekey(con, rows_per_step=2_000, progress=cut_off)
    partly = _orders(con)
    assert partly != truth, "nothing was left to do after the first step"
    assert partly != stale, "the first step was not kept"

    address_rekey.rekey(con, rows_per_step=2_000)

    assert _orders(con) == truth
    listed = con.execute(f"SELECT order_key FROM {warehouse.ADDRESS_REKEYS}").fetchall()
    assert len(listed) == len(set(listed)), "an order listed twice for the sink"


def test_a_step_of_orders_without_an_address_is_passed_over(con):
    """The tills' orders have no address: a step of nothing but them reads no version."""
    con.execute("UPDATE raw.order_history SET address_raw = NULL WHERE channel <> 'meituan'")
    con.execute(f"DELETE FROM {warehouse.MIGRATIONS} WHERE name = ?", [address_rekey.migration_name()])

    done = address_rekey.rekey(con, rows_per_step=500)

    meituan = con.execute("SELECT count(*) FROM raw.order_history WHERE address_raw IS NOT NULL").fetchall()[0][0]
    assert done.versions == meituan and done.changed_versions == 0


def test_the_edition_the_orders_are_keyed_under_moves_when_the_rekey_is_done(con, monkeypatch):
    """What the marts' build digest holds: new code alone does not move it, the finished re-key does."""
    assert address_rekey.stored_edition(con) is None, "loaded without the raw load's re-key: none recorded"
    address_rekey.rekey(con)
    assert address_rekey.stored_edition(con) == addresses.KEY_RULES_VERSION
    monkeypatch.setattr(addresses, "KEY_RULES_VERSION", addresses.KEY_RULES_VERSION + 1)
    assert address_rekey.stored_edition(con) == addresses.KEY_RULES_VERSION - 1

    address_rekey.rekey(con)

    assert address_rekey.stored_edition(con) == addresses.KEY_RULES_VERSION
