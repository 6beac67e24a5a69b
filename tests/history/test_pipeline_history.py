"""The ClickHouse sink in the real pipeline and on real marts: `orchestration.pipeline.run_once` with a
`chdb://` DSN leaves the orders, lines, events and marts in ClickHouse; then, on copies of that warehouse and
store, a mart row the warehouse no longer has (a re-formed parcel, a resolved exception) is gone from
ClickHouse, a changed aggregate shows its new values once, a row moved to another month leaves no copy
behind, and a sync with nothing new writes nothing. The marts are edited by hand here, on the run's newest
days (which every sync compares) or with every day compared, as after a full rebuild; which days a micro-batch
compares is tested in test_sink_raw.py and below."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from history_harness import clickhouse, duck_count, final_count, stored_count

from history import scope, sequence, sink
from history.analytics import ClickHouseStore, DuckDBStore, Scope
from history.identity import order_customers_on_days, order_customers_sql
from history.schema import MARTS, RAW, ROW_HASH, SPECS
from orchestration.pipeline import run_once
from orchestration.settings import Settings

pytestmark = pytest.mark.slow  # one real pipeline run (dbt, dispatch, snapshot) over a simulated day

AS_OF = dt.datetime(2026, 11, 26, 15, 59, 59)
RAW_NAMES = {spec.name for spec in RAW}


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory) -> Settings:
    """Two micro-batches through the real pipeline with a chdb:// DSN: a day, then the next day's orders and
    status updates (the second sync finds marts ClickHouse already has, and compares the days it touched)."""
    from simulator import simulate_day

    root = tmp_path_factory.mktemp("history_run")
    settings = Settings.from_env(
        {"ORDERHUB_CLICKHOUSE_DSN": f"chdb://{root / 'ch'}"},
        landing=root / "landing",
        warehouse=root / "wh" / "orderhub.duckdb",
    )
    simulate_day(dt.date(2026, 11, 26), orders=400, seed=9, out=settings.landing)
    assert run_once(settings, AS_OF)
    simulate_day(dt.date(2026, 11, 27), orders=120, seed=10, out=settings.landing)
    assert run_once(settings, AS_OF + dt.timedelta(days=1))
    return settings


@pytest.fixture
def copies(pipeline_run: Settings, tmp_path: Path):
    """(DuckDB connection, ClickHouse client): a private copy of the run's warehouse, synced into a store of
    its own (a chdb folder cannot be copied: its tables are attached by absolute paths)."""
    shutil.copytree(pipeline_run.warehouse.parent, tmp_path / "wh")
    duck = duckdb.connect(str(tmp_path / "wh" / pipeline_run.warehouse.name))
    with clickhouse(tmp_path / "ch") as client:
        sink.sync(duck, client)
        yield duck, client
    duck.close()


def test_the_pipeline_leaves_the_orders_and_marts_in_clickhouse(pipeline_run):
    duck = duckdb.connect(str(pipeline_run.warehouse), read_only=True)
    expected = {name: duck_count(duck, spec.source) for name, spec in SPECS.items()}
    statuses = duck.execute(
        "SELECT current_status, count(*), sum(paid_amount) FROM marts.fct_orders GROUP BY 1 ORDER BY 1"
    ).fetchall()
    open_exceptions = duck.execute("SELECT count(*) FROM marts.fct_exceptions WHERE resolved_at IS NULL").fetchall()
    days = duck.execute("SELECT count(DISTINCT CAST(created_at AS DATE)) FROM raw.orders").fetchall()[0][0]
    duck.close()
    assert expected["orders"] > 400 and expected["fct_parcels"] > 0 and expected["fct_exceptions"] > 0 and days >= 2
    with clickhouse(Path(pipeline_run.clickhouse_dsn.removeprefix("chdb://"))) as client:
        assert {name: final_count(client, name) for name in SPECS} == expected
        # The values too: an order whose status moved, an exception that was resolved, shows as it is now.
        assert (
            client.query(
                "SELECT current_status, count(), sum(paid_amount) FROM fct_orders FINAL GROUP BY 1 ORDER BY 1"
            ).result_rows
            == statuses
        )
        assert (
            client.query("SELECT count() FROM fct_exceptions FINAL WHERE resolved_at IS NULL").result_rows
            == open_exceptions
        )
        syncs = client.query(f"SELECT count(), countIf(finished_at IS NOT NULL) FROM {sink.SYNCS} FINAL").result_rows
        assert syncs == [(2, 2)]


def test_a_sync_with_nothing_new_writes_nothing(copies):
    duck, client = copies
    assert sink.sync(duck, client) == dict.fromkeys([*SPECS, sequence.NAME], 0)


def test_rows_a_mart_no_longer_has_are_gone(copies):
    duck, client = copies
    exception_id = duck.execute("SELECT arg_max(exception_id, raised_at) FROM marts.fct_exceptions").fetchone()[0]
    parcel_id = duck.execute("SELECT arg_max(parcel_id, business_date) FROM marts.fct_parcels").fetchone()[0]
    duck.execute("DELETE FROM marts.fct_exceptions WHERE exception_id = ?", [exception_id])
    duck.execute("DELETE FROM marts.fct_parcel_items WHERE parcel_id = ?", [parcel_id])
    duck.execute("DELETE FROM marts.fct_parcels WHERE parcel_id = ?", [parcel_id])

    written = sink.sync(duck, client)
    assert written["fct_orders"] == 0 and written["orders"] == 0  # untouched tables are not rewritten
    assert client.query(
        "SELECT count() FROM fct_exceptions FINAL WHERE exception_id = {e:String}", parameters={"e": exception_id}
    ).result_rows == [(0,)]
    for table in ("fct_parcels", "fct_parcel_items"):
        assert client.query(
            f"SELECT count() FROM {table} FINAL WHERE parcel_id = {{p:String}}", parameters={"p": parcel_id}
        ).result_rows == [(0,)]
    for table in ("fct_exceptions", "fct_parcels", "fct_parcel_items"):
        assert final_count(client, table) == duck_count(duck, SPECS[table].source)


def test_a_batch_at_a_door_rewrites_its_older_days_parcels_and_customers(copies):
    """The merge chain rebuilds a door whole, so a batch's order there can change an older day's parcel, items
    and customers at that door. Here the door also has an October merge group (a copy of one of its parcels,
    with an order of its own), copied into ClickHouse; the warehouse then changes that group (another customer,
    another weight), and a batch lands at the door. October is no day the batch's orders are on, so the day
    compare does not read it: the door compare (history/doors.py), once due, writes the changes, and the October
    days' fingerprints are dropped (the next compare of those days reads them row by row)."""
    duck, client = copies
    parcel_id, door, order_key = duck.execute(
        "SELECT parcel_id, address_key, split_part(order_keys, ',', 1) FROM marts.fct_parcels "
        "WHERE address_key IS NOT NULL ORDER BY parcel_id LIMIT 1"
    ).fetchone()
    old_parcel, old_order = parcel_id + "#october", order_key + "#october"
    october = dt.datetime(2026, 10, 15, 4, 0)
    duck.execute(
        "INSERT INTO marts.fct_orders SELECT * REPLACE (? AS order_key, ? AS created_at, DATE '2026-10-15' AS "
        "business_date) FROM marts.fct_orders WHERE order_key = ?",
        [old_order, october, order_key],
    )
    duck.execute(
        "INSERT INTO marts.fct_parcels SELECT * REPLACE (? AS parcel_id, DATE '2026-10-15' AS business_date, "
        "? AS order_keys, 'm:13900000000' AS customer_id) FROM marts.fct_parcels WHERE parcel_id = ?",
        [old_parcel, old_order, parcel_id],
    )
    duck.execute(
        "INSERT INTO marts.fct_parcel_items SELECT * REPLACE (? AS parcel_id, ? AS order_key) "
        "FROM marts.fct_parcel_items WHERE parcel_id = ?",
        [old_parcel, old_order, parcel_id],
    )
    sink.sync(duck, client, every_day=True)

    duck.execute(
        "UPDATE marts.fct_parcels SET customer_id = 'm:13911111111', weight_g = weight_g + 1 WHERE parcel_id = ?",
        [old_parcel],
    )
    duck.execute("UPDATE marts.fct_parcel_items SET weight_g = weight_g + 1 WHERE parcel_id = ?", [old_parcel])
    # A batch with a new version of an order at that door (its days are the simulated ones, not October).
    duck.execute(
        "INSERT INTO raw.ingest_batches SELECT * REPLACE ('door-batch' AS batch_id, now()::TIMESTAMP AS finished_at) "
        "FROM raw.ingest_batches ORDER BY finished_at DESC LIMIT 1"
    )
    duck.execute(
        "INSERT INTO raw.order_history SELECT * REPLACE ('door-batch' AS batch_id) FROM raw.order_history "
        "WHERE order_key = ? LIMIT 1",
        [order_key],
    )
    assert door in scope.touched_doors(duck, sink.new_batches(duck, client, "fct_parcels"))
    # Within the hour of the last compare, the doors wait: the October rows lag.
    sink.sync(duck, client)
    assert client.query(
        "SELECT customer_id FROM order_customers FINAL WHERE order_key = {k:String}", parameters={"k": old_order}
    ).result_rows == [("m:13900000000",)]
    written = sink.sync(duck, client, doors_every=dt.timedelta(0))

    assert written["fct_parcels"] >= 1 and written["fct_parcel_items"] >= 1 and written["order_customers"] >= 1
    assert (
        client.query(
            "SELECT customer_id, weight_g FROM fct_parcels FINAL WHERE parcel_id = {p:String}",
            parameters={"p": old_parcel},
        ).result_rows
        == duck.execute(
            "SELECT customer_id, weight_g FROM marts.fct_parcels WHERE parcel_id = ?", [old_parcel]
        ).fetchall()
    )
    assert (
        client.query(
            "SELECT sum(weight_g) FROM fct_parcel_items FINAL WHERE parcel_id = {p:String}",
            parameters={"p": old_parcel},
        ).result_rows
        == duck.execute("SELECT sum(weight_g) FROM marts.fct_parcel_items WHERE parcel_id = ?", [old_parcel]).fetchall()
    )
    assert client.query(
        "SELECT customer_id FROM order_customers FINAL WHERE order_key = {k:String}", parameters={"k": old_order}
    ).result_rows == [("m:13911111111",)]
    for table in ("fct_parcels", "fct_parcel_items", "order_customers"):
        assert final_count(client, table) == duck_count(duck, SPECS[table].source), table
        assert client.query(
            f"SELECT count() FROM {sink.BUCKETS} FINAL WHERE table = {{t:String}} AND bucket = '2026-10-15'",
            parameters={"t": table},
        ).result_rows == [(0,)], table


def test_a_changed_aggregate_shows_its_new_values_once(copies):
    duck, client = copies
    date, channel, orders = duck.execute(
        "SELECT business_date, channel, orders FROM marts.fct_daily_channel_summary ORDER BY business_date DESC, orders DESC LIMIT 1"
    ).fetchone()
    duck.execute(
        "UPDATE marts.fct_daily_channel_summary SET orders = orders + 5 WHERE business_date = ? AND channel = ?",
        [date, channel],
    )
    assert sink.sync(duck, client)["fct_daily_channel_summary"] >= 1
    assert client.query(
        "SELECT orders FROM fct_daily_channel_summary FINAL WHERE business_date = {d:Date32} AND channel = {c:String}",
        parameters={"d": date, "c": channel},
    ).result_rows == [(orders + 5,)]
    assert final_count(client, "fct_daily_channel_summary") == duck_count(duck, "marts.fct_daily_channel_summary")


def test_a_mart_row_moved_to_another_month_leaves_no_copy_behind(copies):
    duck, client = copies
    order_key = duck.execute("SELECT min(order_key) FROM marts.fct_orders").fetchone()[0]
    duck.execute(
        "UPDATE marts.fct_orders SET created_at = TIMESTAMP '2026-10-31 06:00:00' WHERE order_key = ?", [order_key]
    )
    sink.sync(duck, client, every_day=True)  # October is no day a batch touched: as after a full rebuild
    client.command("OPTIMIZE TABLE fct_orders FINAL")
    assert client.query(
        "SELECT _partition_id, created_at FROM fct_orders FINAL WHERE order_key = {k:String}",
        parameters={"k": order_key},
    ).result_rows == [("202610", dt.datetime(2026, 10, 31, 6, 0))]
    assert final_count(client, "fct_orders") == duck_count(duck, "marts.fct_orders")


def test_everything_copied_again_keeps_one_row_per_key(copies):
    """The sink's bookkeeping lost (watermarks and day fingerprints): every raw table is copied again whole (every
    row stored twice, one per key after FINAL); every day of every mart is compared row by row, and as ClickHouse
    already holds each row as it is, none is written again."""
    duck, client = copies
    client.command(f"TRUNCATE TABLE {sink.BUCKETS}")
    client.command(f"TRUNCATE TABLE {sink.WATERMARKS}")
    for name in SPECS:
        client.command(f"SYSTEM STOP MERGES {name}")  # a background merge would collapse the copies early
    written = sink.sync(duck, client)
    for name, spec in SPECS.items():
        copies_stored = 2 if name in RAW_NAMES else 1
        assert written[name] == (copies_stored - 1) * duck_count(duck, spec.source), name
        assert final_count(client, name) == duck_count(duck, spec.source), name
        assert stored_count(client, name) == copies_stored * duck_count(duck, spec.source), name


def test_an_old_day_is_compared_after_a_full_rebuild_not_by_every_micro_batch(copies):
    """A change on a day no new batch touched (a hand edit, a rules change) is not looked for by a plain sync:
    it would cost a scan of every mart each micro-batch. A full rebuild (or a new build label) compares every
    day and finds it."""
    duck, client = copies
    duck.execute(
        "INSERT INTO marts.fct_daily_channel_summary (business_date, channel, orders) VALUES (DATE '2026-11-01', 'app', 7)"
    )
    assert sink.sync(duck, client, marts_build="build-1")["fct_daily_channel_summary"] == 1  # a new label
    duck.execute("UPDATE marts.fct_daily_channel_summary SET orders = 8 WHERE business_date = DATE '2026-11-01'")
    assert sink.sync(duck, client, marts_build="build-1")["fct_daily_channel_summary"] == 0
    assert sink.sync(duck, client, every_day=True)["fct_daily_channel_summary"] == 1
    assert client.query(
        "SELECT orders FROM fct_daily_channel_summary FINAL WHERE business_date = '2026-11-01'"
    ).result_rows == [(8,)]


def test_a_day_of_an_aggregate_and_its_retractions_go_in_one_insert(copies):
    """One INSERT into one partition makes one part, which a reader sees whole or not at all: the changed row
    and the removed one of a day arrive together (DuckDB hands them over as separate Arrow batches)."""
    duck, client = copies
    day, first, second = duck.execute(
        "SELECT business_date, min(channel), max(channel) FROM marts.fct_daily_channel_summary "
        "GROUP BY 1 HAVING count(*) > 1 ORDER BY 1 DESC LIMIT 1"
    ).fetchall()[0]
    duck.execute(
        "UPDATE marts.fct_daily_channel_summary SET orders = 999 WHERE business_date = ? AND channel = ?", [day, first]
    )
    duck.execute("DELETE FROM marts.fct_daily_channel_summary WHERE business_date = ? AND channel = ?", [day, second])
    client.command("SYSTEM STOP MERGES fct_daily_channel_summary")
    parts = (
        "SELECT count() FROM system.parts "
        "WHERE database = currentDatabase() AND table = 'fct_daily_channel_summary' AND active"
    )
    before = client.query(parts).result_rows[0][0]
    assert sink.sync(duck, client)["fct_daily_channel_summary"] >= 2
    assert client.query(parts).result_rows[0][0] == before + 1
    assert client.query(
        "SELECT channel, orders FROM fct_daily_channel_summary FINAL "
        "WHERE business_date = {d:Date32} AND channel IN ({a:String}, {b:String})",
        parameters={"d": day, "a": first, "b": second},
    ).result_rows == [(first, 999)]


def test_the_full_rebuild_job_compares_every_day(pipeline_run):
    """Last in this module (it runs the shared pipeline once more): the nightly job's run compares every day,
    here the oldest, whose copy in ClickHouse was made wrong (a stray row, its day's fingerprint stale), which
    no micro-batch would look at."""
    store = Path(pipeline_run.clickhouse_dsn.removeprefix("chdb://"))
    with clickhouse(store) as client:
        oldest = client.query(f"SELECT min(bucket) FROM {sink.BUCKETS} FINAL WHERE table = 'fct_daily_channel_summary'")
        oldest = oldest.result_rows[0][0]
        client.command(
            "INSERT INTO fct_daily_channel_summary (business_date, channel, orders, _version, _deleted) "
            f"VALUES ('{oldest.isoformat()}', 'ghost', 1, 1, 0)"
        )
        last = client.query(f"SELECT max(version) FROM {sink.SYNCS}").result_rows[0][0]
        client.command(
            f"INSERT INTO {sink.BUCKETS} (table, bucket, rows, fingerprint, _version, _deleted) "
            f"VALUES ('fct_daily_channel_summary', '{oldest.isoformat()}', 0, 'stale', {last}, 0)"
        )
    assert run_once(pipeline_run, AS_OF + dt.timedelta(days=1), full=True)
    duck = duckdb.connect(str(pipeline_run.warehouse), read_only=True)
    expected = {name: duck_count(duck, spec.source) for name, spec in SPECS.items()}
    summary = duck.execute("SELECT business_date, channel, orders FROM marts.fct_daily_channel_summary ORDER BY 1, 2")
    summary = summary.fetchall()
    duck.close()
    with clickhouse(store) as client:
        assert {name: final_count(client, name) for name in SPECS} == expected
        assert (
            client.query(
                "SELECT business_date, channel, orders FROM fct_daily_channel_summary FINAL ORDER BY 1, 2"
            ).result_rows
            == summary
        )
        fingerprint = client.query(
            f"SELECT fingerprint FROM {sink.BUCKETS} FINAL "
            f"WHERE table = 'fct_daily_channel_summary' AND bucket = '{oldest.isoformat()}'"
        )
        assert fingerprint.result_rows[0][0] != "stale"


# --- order_customers: each order's identity, stored ---------------------------------------------------------

IDENTITY_COLUMNS = "order_key, customer_id, merge_group_id, group_size, channel, business_date"


def _identity(duck, client) -> tuple[list, list]:
    """order_customers as DuckDB defines it and as ClickHouse holds it, ordered by key."""
    in_duck = duck.execute(f"SELECT {IDENTITY_COLUMNS} FROM ({order_customers_sql()}) ORDER BY order_key").fetchall()
    in_clickhouse = client.query(f"SELECT {IDENTITY_COLUMNS} FROM order_customers FINAL ORDER BY order_key")
    return in_duck, in_clickhouse.result_rows


def _answers(store, questions=("repeat", "cross-channel", "merges")) -> list:
    return [store.ask(q, Scope(by="channel")).rows for q in questions]


def test_a_marts_newest_day_read_from_its_joined_table_is_the_day_the_join_gives(copies):
    """The sink's newest days of a mart whose day comes from another table (`Extra.newest`, read there alone) are
    those of the join over every row it stands for."""
    duck, _ = copies
    named = [(spec, extra) for spec in MARTS for extra in spec.extras if extra.newest]
    assert named, "no mart names its newest day by its joined table"
    for spec, extra in named:
        joined = duck.execute(f"SELECT max({extra.sql}) FROM {spec.source} src {extra.join}").fetchone()[0]
        alone = duck.execute(extra.newest).fetchone()[0]
        assert alone == joined and joined is not None, spec.name


def test_the_sink_stores_every_orders_customer_and_merge_group(copies):
    duck, client = copies
    in_duck, in_clickhouse = _identity(duck, client)
    assert in_clickhouse == in_duck
    assert len(in_duck) == duck_count(duck, "marts.fct_orders")
    # Not vacuous: merged orders, merge customers, phone and channel-user fallbacks, orders with no identity.
    kinds = {(row[2] is not None and row[3] > 1, (row[1] or "none")[:2]) for row in in_duck}
    assert {(True, "m:"), (False, "m:"), (False, "u:"), (False, "no")} <= kinds, kinds


def test_the_identity_of_some_days_reads_only_their_parcels_and_gives_the_same_rows(copies):
    """What the sink reads per day (history.identity.order_customers_on_days, the parcels of the day and its
    neighbours only) is, for the orders of those days, what the whole relation gives."""
    duck, _ = copies
    days = [day for (day,) in duck.execute("SELECT DISTINCT CAST(created_at AS DATE) FROM marts.fct_orders").fetchall()]
    assert len(days) >= 2, days  # orders of both simulated days, and the UTC days they straddle
    on = "WHERE CAST(created_at AS DATE) = ? ORDER BY order_key"
    for day in days:
        narrowed = duck.execute(f"SELECT * FROM ({order_customers_on_days([day])}) {on}", [day]).fetchall()
        whole = duck.execute(f"SELECT * FROM ({order_customers_sql()}) {on}", [day]).fetchall()
        assert narrowed == whole and whole, day
    merged = duck.execute(f"SELECT count(merge_group_id) FROM ({order_customers_on_days(days)})").fetchall()[0][0]
    assert merged > 0


def test_a_replayed_batch_leaves_the_identity_unchanged(copies):
    """Its bookkeeping lost, the sink compares every order's identity again and writes none (ClickHouse has each
    row as it is). With the rows' hashes unknown too (rows written before they were kept), it writes every one
    again: stored twice, one row per order after FINAL, and the questions that read it answer as before."""
    duck, client = copies
    before = _answers(ClickHouseStore(client))
    orders = duck_count(duck, "marts.fct_orders")
    client.command(f"TRUNCATE TABLE {sink.BUCKETS}")
    client.command(f"TRUNCATE TABLE {sink.WATERMARKS}")
    # The orders' sequence, whose mark went with the watermarks, is computed again (history/sequence.py).
    assert sink.sync(duck, client, tables=["order_customers"]) == {"order_customers": 0, sequence.NAME: orders}
    client.command(f"ALTER TABLE order_customers UPDATE {ROW_HASH} = 0 WHERE 1", settings={"mutations_sync": 2})
    client.command(f"TRUNCATE TABLE {sink.BUCKETS}")
    client.command(f"TRUNCATE TABLE {sink.WATERMARKS}")
    client.command("SYSTEM STOP MERGES order_customers")
    assert sink.sync(duck, client, tables=["order_customers"]) == {"order_customers": orders, sequence.NAME: orders}
    assert (final_count(client, "order_customers"), stored_count(client, "order_customers")) == (orders, 2 * orders)
    assert _answers(ClickHouseStore(client)) == before


def test_a_micro_batch_writes_the_rows_it_changed_not_their_whole_day(copies):
    """One order of the newest day changed by hand (as a re-push would change it): the day's fingerprint
    differs, the day is compared row by row, and only that order's row is written."""
    duck, client = copies
    key, day = duck.execute(
        "SELECT order_key, CAST(created_at AS DATE) FROM marts.fct_orders ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    on_day = duck.execute("SELECT count(*) FROM marts.fct_orders WHERE CAST(created_at AS DATE) = ?", [day]).fetchone()
    assert on_day[0] > 10, "a day of one order would prove nothing"
    duck.execute("UPDATE marts.fct_orders SET line_count = line_count + 1 WHERE order_key = ?", [key])
    assert sink.sync(duck, client, tables=["fct_orders"]) == {"fct_orders": 1}
    stored = client.query("SELECT line_count FROM fct_orders FINAL WHERE order_key = {k:String}", parameters={"k": key})
    assert (
        stored.result_rows
        == duck.execute("SELECT line_count FROM marts.fct_orders WHERE order_key = ?", [key]).fetchall()
    )


def test_an_order_whose_merge_changed_moves_to_its_new_group(copies):
    """A re-pushed order that no longer merges (its address changed): the marts' next build gives it a parcel
    of its own and leaves its old group one order smaller. Edited by hand here on the newest day (which every
    sync compares): the sink replaces its row and its old group mates', and both engines answer alike."""
    duck, client = copies
    group, keys, day, store = duck.execute(
        "SELECT merge_group_id, any_value(order_keys), max(business_date), any_value(store_id) FROM marts.fct_parcels "
        "WHERE group_size = 2 GROUP BY merge_group_id HAVING count(*) = 1 ORDER BY max(business_date) DESC LIMIT 1"
    ).fetchone()
    moved, stays = keys.split(",")
    duck.execute("UPDATE marts.fct_parcels SET order_keys = ?, group_size = 1 WHERE merge_group_id = ?", [stays, group])
    duck.execute(
        "INSERT INTO marts.fct_parcels (parcel_id, merge_group_id, customer_id, group_size, business_date, store_id, "
        "order_keys) VALUES ('moved/0/1', 'moved', 'm:19900000000', 1, ?, ?, ?)",
        [day, store, moved],
    )
    assert sink.sync(duck, client)["order_customers"] >= 2
    rows = client.query(
        "SELECT order_key, merge_group_id, group_size, customer_id FROM order_customers FINAL "
        "WHERE order_key IN ({a:String}, {b:String}) ORDER BY order_key = {a:String} DESC",
        parameters={"a": moved, "b": stays},
    ).result_rows
    assert rows[0] == (moved, "moved", 1, "m:19900000000")
    assert rows[1][:3] == (stays, group, 1)
    in_duck, in_clickhouse = _identity(duck, client)
    assert in_clickhouse == in_duck
    assert _answers(ClickHouseStore(client)) == _answers(DuckDBStore(duck))


def _expected_sequence(client) -> list[tuple]:
    """Each order's days of its customer's other orders by their definition (history/sequence.py), worked out
    here in Python from ClickHouse's order_customers: the previous order of its customer (creation time, then
    key), the latest earlier and the earliest later one on another channel."""
    rows = client.query(
        "SELECT order_key, customer_id, channel, created_at, business_date FROM order_customers FINAL"
    ).result_rows
    by_customer: dict[str, list[tuple]] = {}
    for row in rows:
        if row[1] is not None:
            by_customer.setdefault(row[1], []).append(row)
    expected = {row[0]: (row[0], row[1], None, None, None) for row in rows}
    for orders in by_customer.values():
        orders.sort(key=lambda row: (row[3], row[0]))
        for i, (key, customer, channel, _, _) in enumerate(orders):
            previous = orders[i - 1][4] if i else None
            earlier_other = next((o[4] for o in reversed(orders[:i]) if o[2] != channel), None)
            later_other = next((o[4] for o in orders[i + 1 :] if o[2] != channel), None)
            expected[key] = (key, customer, previous, earlier_other, later_other)
    return sorted(expected.values())


def _stored_sequence(client) -> list[tuple]:
    return client.query(
        "SELECT order_key, customer_id, prev_order_date, prev_other_channel_date, next_other_channel_date "
        "FROM order_sequence FINAL ORDER BY order_key"
    ).result_rows


@pytest.mark.parametrize(
    ("whole", "rows_per_pass"),
    [(False, sequence.ROWS_PER_PASS), (False, 4), (True, sequence.ROWS_PER_PASS), (True, 150)],
    ids=["changed-one-pass", "changed-in-passes", "whole-one-pass", "whole-in-passes"],
)
def test_each_orders_sequence_follows_the_changes_of_its_customers_orders(copies, monkeypatch, whole, rows_per_pass):
    """A sync that changes some orders' identities recomputes the sequence of those orders and of every order
    of their customers, old and new, and only those; what it leaves is what the definition gives for every
    order. The changes are written to order_customers as the sink writes them (a newer version; a tombstone
    under the old sorting key when the key changes): an order that changes customer, one that moves before
    its customer's first order, one that is gone, and a late order in the middle of a customer's orders.
    The same when the whole table is computed again, and when either is done in passes over buckets of
    customers (an order that changes customer then moves between passes)."""
    _, client = copies
    expected = _expected_sequence(client)
    assert _stored_sequence(client) == expected
    # Not vacuous: orders with a previous order, and with an earlier and a later one on another channel.
    assert all(any(row[i] is not None for row in expected) for i in (2, 3, 4))
    repeat_customers = client.query(
        "SELECT customer_id, groupArray(order_key) FROM (SELECT * FROM order_customers FINAL ORDER BY created_at) "
        "WHERE customer_id IS NOT NULL GROUP BY customer_id HAVING count() >= 3 ORDER BY customer_id LIMIT 3"
    ).result_rows
    assert len(repeat_customers) == 3, "the run must give customers with several orders"
    (first_customer, first_orders), (second_customer, second_orders), (_, third_orders) = repeat_customers
    version = client.query(f"SELECT max({sink.VERSION}) FROM order_customers").result_rows[0][0] + 1
    columns = [
        row[0]
        for row in client.query(
            "SELECT name FROM system.columns WHERE table = 'order_customers' AND database = currentDatabase()"
        ).result_rows
    ]

    def rewrite(key: str, **changed: str) -> None:
        kept = [c for c in columns if c not in (sink.VERSION, sink.DELETED)]
        values = ", ".join(f"{changed[c]} AS {c}" if c in changed else c for c in kept)
        client.command(
            f"INSERT INTO order_customers ({', '.join(kept)}, {sink.VERSION}, {sink.DELETED}) "
            f"SELECT {values}, toUInt64({version}), toUInt8(0) "
            f"FROM order_customers FINAL WHERE order_key = {{k:String}}",
            parameters={"k": key},
        )

    def retract(key: str) -> None:
        client.command(
            f"INSERT INTO order_customers SELECT * REPLACE (toUInt64({version}) AS {sink.VERSION}, "
            f"toUInt8(1) AS {sink.DELETED}) FROM order_customers FINAL WHERE order_key = {{k:String}}",
            parameters={"k": key},
        )

    # The first customer's last order now belongs to the second customer.
    rewrite(first_orders[-1], customer_id=f"'{second_customer}'")
    # The second customer's last order moves to an hour before its first (a re-push with a new creation time):
    # new sorting key, so the old one is retracted.
    first_at = client.query(
        "SELECT min(created_at) FROM order_customers FINAL WHERE customer_id = {c:String}",
        parameters={"c": second_customer},
    ).result_rows[0][0]
    moved = second_orders[-1]
    retract(moved)
    rewrite(
        moved,
        created_at=f"toDateTime64('{first_at:%Y-%m-%d %H:%M:%S}', 6, 'UTC') - INTERVAL 1 HOUR",
        business_date=f"toDate(toDateTime64('{first_at:%Y-%m-%d %H:%M:%S}', 6, 'UTC') - INTERVAL 1 HOUR + INTERVAL 8 HOUR)",
    )
    # The third customer's first order is gone.
    retract(third_orders[0])
    # A late order of the first customer, on another channel, a second after its first order.
    late_channel = (
        "eleme"
        if client.query(
            "SELECT channel FROM order_customers FINAL WHERE order_key = {k:String}", parameters={"k": first_orders[0]}
        ).result_rows[0][0]
        != "eleme"
        else "app"
    )
    rewrite(
        first_orders[0],
        order_key="'late:1'",
        channel=f"'{late_channel}'",
        created_at="created_at + INTERVAL 1 SECOND",
    )
    statements = []
    command = client.command

    def counted(sql, *args, **kwargs):
        statements.append(sql)
        return command(sql, *args, **kwargs)

    monkeypatch.setattr(client, "command", counted)
    monkeypatch.setattr(sequence, "KEYS_IN_ONE_PASS", 0)  # the fixture's few changed orders, as if many
    written = sequence.refresh(client, version, since=version - 1, whole=whole, rows_per_pass=rows_per_pass)
    assert _stored_sequence(client) == _expected_sequence(client)
    inserts = [sql for sql in statements if sql.startswith(f"INSERT INTO `{sequence.NAME}`")]
    # Retractions and computed rows, once per pass.
    if rows_per_pass == sequence.ROWS_PER_PASS:
        assert len(inserts) == 2
    else:
        assert len(inserts) >= 2 * 3 and len(inserts) % 2 == 0
    if whole:
        return
    touched = client.query(
        "SELECT count() FROM order_customers FINAL WHERE customer_id IN ({a:String}, {b:String}) "
        "OR order_key = {gone:String}",
        parameters={"a": first_customer, "b": second_customer, "gone": third_orders[0]},
    ).result_rows[0][0]
    assert 0 < written < final_count(client, "order_customers"), "only the changed customers' orders are written"
    assert touched <= written
