"""Stock reservations against a real redis-server: all lines or none, never more held than there is."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from ingestion.stock import LiveCounters, OrderDemand, Short, StockCount, StockLedger, StockMovement

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def order(key: str, lines: dict[str, int], minute: float = 10, cancelled: bool = False, store: str = "S1",
          channel: str = "meituan", content: str | None = None) -> OrderDemand:  # fmt: skip
    return OrderDemand(
        order_key=key,
        channel=channel,
        store_id=store,
        created_at=at(minute),
        lines=lines,
        cancelled=cancelled,
        content_hash=content or f"{sorted(lines.items())}|{cancelled}",
    )


@pytest.fixture
def ledger(redis_client) -> StockLedger:
    return StockLedger(redis_client)


def count(ledger: StockLedger, sku: str, on_hand: int, minute: float = 0, store: str = "S1") -> int:
    return ledger.load_counts([StockCount(store, sku, on_hand, at(minute))], now=NOW)


def changes(client: redis.Redis) -> list[dict]:
    return [fields for _, fields in client.xrange("oh:stock:changes")]


def test_all_or_nothing_when_one_line_is_short(ledger, redis_client):
    count(ledger, "A", 5)
    count(ledger, "B", 1)
    before = len(changes(redis_client))
    result = ledger.reserve(order("mt:1", {"A": 2, "B": 2}), allow_short=False, now=NOW)
    assert result.outcome == "refused_short"
    assert result.short == {"B": Short(wanted=2, available=1)}
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (5, 1)
    assert len(changes(redis_client)) == before, "a refused order changes no available, so no outbox entry"


def test_allow_short_holds_everything_and_goes_negative(ledger):
    count(ledger, "A", 1)
    result = ledger.reserve(order("pos:1", {"A": 3}), allow_short=True, now=NOW)
    assert result.outcome == "accepted_short"
    assert result.short == {"A": Short(wanted=3, available=1)}
    assert ledger.available("S1", "A") == -2


def test_racing_threads_never_hold_more_than_the_stock(ledger, redis_server):
    count(ledger, "A", 25)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def buyer(worker: int) -> None:
        own = StockLedger(redis.Redis.from_url(redis_server.url, decode_responses=True))
        for n in range(10):
            units = 1 + (worker + n) % 3
            r = own.reserve(order(f"app:{worker}-{n}", {"A": units}, channel="app"), allow_short=False, now=NOW)
            with lock:
                outcomes.append((units, r.outcome))

    threads = [threading.Thread(target=buyer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = sum(units for units, outcome in outcomes if outcome == "reserved")
    assert {o for _, o in outcomes} == {"reserved", "refused_short"}
    assert held <= 25
    position = ledger.position("S1", "A")
    assert position["held"] == held and position["available"] == 25 - held >= 0
    # Sold out down to less than the smallest order that came after: the racers used what there was.
    assert position["available"] < 3


def test_cancel_releases_and_a_second_cancel_changes_nothing(ledger):
    count(ledger, "A", 5)
    assert ledger.reserve(order("mt:1", {"A": 3}), allow_short=False, now=NOW).outcome == "reserved"
    assert ledger.available("S1", "A") == 2
    assert ledger.reserve(order("mt:1", {"A": 3}, cancelled=True), allow_short=False, now=NOW).outcome == "released"
    assert ledger.available("S1", "A") == 5
    again = ledger.reserve(order("mt:1", {"A": 3}, cancelled=True), allow_short=False, now=NOW)
    assert again.outcome == "already_released"
    assert ledger.available("S1", "A") == 5


def test_a_cancel_without_lines_and_a_change_that_drops_a_sku_release_what_was_held(ledger):
    count(ledger, "A", 5)
    count(ledger, "B", 5)
    ledger.reserve(order("mt:1", {"A": 2, "B": 1}), allow_short=False, now=NOW)
    dropped = ledger.reserve(order("mt:1", {"B": 1}), allow_short=False, now=NOW)
    assert dropped.outcome == "changed"
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (5, 4)
    # Platforms' cancel messages carry no items: the order's own record says what it held.
    ledger.reserve(order("mt:1", {}, cancelled=True), allow_short=False, now=NOW)
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (5, 5)


def test_cancel_before_the_first_push_means_the_late_push_holds_nothing(ledger):
    count(ledger, "A", 5)
    cancel = ledger.reserve(order("el:9", {}, cancelled=True, channel="eleme"), allow_short=False, now=NOW)
    assert cancel.outcome == "released"
    late = ledger.reserve(order("el:9", {"A": 2}, channel="eleme"), allow_short=False, now=NOW)
    assert late.outcome == "already_released"
    assert ledger.available("S1", "A") == 5


def test_changed_repush_holds_only_the_difference(ledger):
    count(ledger, "A", 10)
    count(ledger, "B", 4)
    ledger.reserve(order("mt:1", {"A": 2}), allow_short=False, now=NOW)
    grown = ledger.reserve(order("mt:1", {"A": 5}), allow_short=False, now=NOW)
    assert grown.outcome == "changed"
    assert ledger.position("S1", "A")["held"] == 5
    moved = ledger.reserve(order("mt:1", {"A": 1, "B": 3}), allow_short=False, now=NOW)
    assert moved.outcome == "changed"
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (9, 1)
    # A change that does not fit is refused and the accepted version keeps its hold.
    too_big = ledger.reserve(order("mt:1", {"A": 1, "B": 6}), allow_short=False, now=NOW)
    assert too_big.outcome == "refused_short"
    assert too_big.short == {"B": Short(wanted=3, available=1)}
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (9, 1)
    # Cancelling releases what the accepted version held, on every SKU it had.
    ledger.reserve(order("mt:1", {"A": 1, "B": 3}, cancelled=True), allow_short=False, now=NOW)
    assert (ledger.available("S1", "A"), ledger.available("S1", "B")) == (10, 4)


def test_unchanged_repush_moves_nothing_and_a_refused_order_stays_refused(ledger, redis_client):
    count(ledger, "A", 3)
    first = ledger.reserve(order("mt:1", {"A": 2}), allow_short=False, now=NOW)
    entries = len(changes(redis_client))
    again = ledger.reserve(order("mt:1", {"A": 2}), allow_short=False, now=NOW)
    assert (first.outcome, again.outcome) == ("reserved", "unchanged")
    assert ledger.available("S1", "A") == 1 and len(changes(redis_client)) == entries

    assert ledger.reserve(order("mt:2", {"A": 4}), allow_short=False, now=NOW).outcome == "refused_short"
    ledger.apply_movements([StockMovement("rcv-1", "S1", "A", 10, at(20))], now=NOW)
    # The same push again (a platform retry) is the same refused order, even though stock came in since.
    assert ledger.reserve(order("mt:2", {"A": 4}), allow_short=False, now=NOW).outcome == "unchanged"
    assert ledger.available("S1", "A") == 11


def test_a_new_count_rebases_held_on_the_orders_since_it(ledger):
    assert count(ledger, "A", 20, minute=0) == 1
    ledger.reserve(order("mt:early", {"A": 3}, minute=10), allow_short=False, now=NOW)
    ledger.reserve(order("mt:late", {"A": 4}, minute=30), allow_short=False, now=NOW)
    assert ledger.available("S1", "A") == 13
    # The WMS counted at minute 20: the early order is already out of that count, the late one is not.
    assert count(ledger, "A", 15, minute=20) == 1
    assert ledger.position("S1", "A") == {
        "count": 15, "counted_at": at(20), "moved": 0, "held": 4, "available": 11,
    }  # fmt: skip
    assert count(ledger, "A", 99, minute=5) == 0, "an older count is ignored"
    assert count(ledger, "A", 15, minute=20) == 0, "the same count again is ignored"
    assert ledger.available("S1", "A") == 11
    # Cancelling the early order gives nothing back: the count already had it out of stock.
    ledger.reserve(order("mt:early", {"A": 3}, minute=10, cancelled=True), allow_short=False, now=NOW)
    assert ledger.available("S1", "A") == 11
    # An order created before the count holds nothing of that SKU.
    r = ledger.reserve(order("mt:backdated", {"A": 100}, minute=15), allow_short=False, now=NOW)
    assert r.outcome == "reserved" and ledger.available("S1", "A") == 11


def test_unknown_stock_is_accepted_unguarded_and_counted_once_a_count_covers_it(ledger):
    r = ledger.reserve(order("app:1", {"U": 2}, minute=30, channel="app"), allow_short=False, now=NOW)
    assert (r.outcome, r.unguarded) == ("reserved", ("U",))
    assert ledger.available("S1", "U") is None and ledger.position("S1", "U") is None
    count(ledger, "U", 10, minute=20)
    assert ledger.available("S1", "U") == 8


def test_movements_count_once_and_only_after_the_count(ledger):
    count(ledger, "A", 10, minute=10)
    moves = [
        StockMovement("rcv-1", "S1", "A", 6, at(20)),
        StockMovement("wo-1", "S1", "A", -2, at(25)),
        StockMovement("old-1", "S1", "A", 50, at(5)),
    ]
    assert ledger.apply_movements(moves, now=NOW) == 2
    assert ledger.apply_movements(moves, now=NOW) == 0
    assert ledger.position("S1", "A")["moved"] == 4 and ledger.available("S1", "A") == 14
    # Goods that arrive before the SKU's first count are kept for a count dated before them.
    ledger.apply_movements([StockMovement("rcv-2", "S1", "B", 7, at(20))], now=NOW)
    assert ledger.available("S1", "B") is None
    count(ledger, "B", 1, minute=15)
    assert ledger.available("S1", "B") == 8
    # A newer count absorbs the goods before it.
    count(ledger, "A", 30, minute=22)
    assert ledger.position("S1", "A")["moved"] == -2


def test_every_change_of_available_lands_in_the_outbox(ledger, redis_client):
    count(ledger, "A", 10)
    count(ledger, "B", 10)
    ledger.reserve(order("mt:1", {"A": 2, "B": 3}), allow_short=False, now=NOW)
    ledger.reserve(order("mt:1", {"A": 2, "B": 3}, cancelled=True), allow_short=False, now=NOW)
    ledger.apply_movements([StockMovement("rcv-1", "S1", "A", 5, at(20))], now=NOW)
    got = [(c["sku_id"], int(c["available"])) for c in changes(redis_client)]
    assert got == [("A", 10), ("B", 10), ("A", 8), ("B", 7), ("A", 10), ("B", 10), ("A", 15)]
    assert {c["store_id"] for c in changes(redis_client)} == {"S1"}
    assert {c["at_ms"] for c in changes(redis_client)} == {str(int(NOW.timestamp() * 1000))}


def test_counters_read_back_per_minute_and_channel(ledger, redis_client):
    count(ledger, "A", 3)
    ledger.reserve(order("mt:1", {"A": 2}), allow_short=False, now=NOW)
    ledger.reserve(order("mt:2", {"A": 2}), allow_short=False, now=NOW)
    ledger.reserve(order("mt:1", {"A": 2}, cancelled=True), allow_short=False, now=NOW + timedelta(minutes=1))
    counters = LiveCounters(redis_client)
    counters.incr("eleme", "rejected_signature", at=NOW)
    counters.incr("eleme", "rejected_signature", 2, at=NOW + timedelta(seconds=30))
    frame = counters.read(NOW, NOW + timedelta(minutes=1))
    got = {(row["minute"], row["channel"], row["what"]): row["count"] for row in frame.to_dicts()}
    minute0, minute1 = NOW, NOW + timedelta(minutes=1)
    assert got == {
        (minute0, "eleme", "rejected_signature"): 3,
        (minute0, "meituan", "orders"): 2,
        (minute0, "meituan", "units_reserved"): 2,
        (minute0, "meituan", "refused_short"): 1,
        (minute1, "meituan", "released"): 1,
    }
    assert 0 < redis_client.ttl(f"oh:counters:{int(NOW.timestamp()) // 60}") <= 2 * 24 * 3600


def test_a_reservation_survives_sigkill_and_the_retry_is_unchanged(redis_server):
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    StockLedger(client).load_counts([StockCount("S1", "A", 5, at(0))], now=NOW)
    first = StockLedger(client).reserve(order("mt:1", {"A": 4}), allow_short=False, now=NOW)
    assert first.outcome == "reserved"
    client.close()
    redis_server.kill()
    redis_server.start()
    after = StockLedger(redis.Redis.from_url(redis_server.url, decode_responses=True))
    assert after.available("S1", "A") == 1
    assert after.reserve(order("mt:1", {"A": 4}), allow_short=False, now=NOW).outcome == "unchanged"
    assert after.reserve(order("mt:2", {"A": 2}), allow_short=False, now=NOW).outcome == "refused_short"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"created_at": datetime(2026, 12, 4, 8, 0)}, "timezone-aware"),
        ({"lines": {"A": 0}}, "must be positive"),
        ({"lines": {"A": 1.5}}, "whole number"),
        ({"lines": {}}, "at least one line"),
        ({"store_id": "S{1}"}, "brace"),
        ({"order_key": ""}, "non-empty"),
    ],
)
def test_bad_demand_is_a_clear_error(ledger, change, message):
    fields = order("mt:1", {"A": 1}).__dict__ | change
    with pytest.raises(ValueError, match=message):
        ledger.reserve(OrderDemand(**fields), allow_short=False, now=NOW)


def test_throughput_of_one_client_on_loopback(ledger, capsys):
    skus = [f"K{i}" for i in range(20)]
    ledger.load_counts([StockCount("S1", sku, 1_000_000, at(0)) for sku in skus], now=NOW)
    n = 2000
    started = time.perf_counter()
    for i in range(n):
        lines = {skus[i % 20]: 1, skus[(i + 7) % 20]: 2}
        ledger.reserve(order(f"app:{i}", lines, channel="app"), allow_short=False, now=NOW)
    rate = n / (time.perf_counter() - started)
    with capsys.disabled():
        print(f"\nreservations/s, one client, two lines each, appendfsync always: {rate:,.0f}")
    assert rate > 100


def test_order_records_older_than_every_count_of_the_store_are_dropped(ledger, redis_client):
    count(ledger, "A", 10, minute=0)
    ledger.reserve(order("mt:old", {"A": 2}, minute=10), allow_short=False, now=NOW)
    ledger.reserve(order("mt:new", {"A": 1}, minute=30), allow_short=False, now=NOW)
    count(ledger, "A", 8, minute=20)
    assert not redis_client.exists("oh:{S1}:order:mt:old")
    assert redis_client.exists("oh:{S1}:order:mt:new")
    assert redis_client.zrange("oh:{S1}:orders", 0, -1) == ["mt:new"]
    # Its cancel, arriving late, still gives nothing back: the count already had those units out.
    ledger.reserve(order("mt:old", {}, minute=10, cancelled=True), allow_short=False, now=NOW)
    assert ledger.available("S1", "A") == 7


def test_a_refused_order_stays_refused_and_says_so_when_pushed_again(redis_client):
    """A push retried after a crash finds its order `unchanged`: the reply still says it was refused, and a later
    push of it takes nothing even once stock has come back."""
    from datetime import UTC, datetime

    from ingestion.stock.reservations import OrderDemand, StockCount, StockLedger

    now = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    ledger = StockLedger(redis_client)
    ledger.load_counts([StockCount("S1", "A", 1, datetime(2026, 11, 26, 0, 0, tzinfo=UTC))])
    order = OrderDemand("app:1", "app", "S1", now, {"A": 2}, False, "h1")
    assert ledger.reserve(order, allow_short=False, now=now).outcome == "refused_short"
    again = ledger.reserve(order, allow_short=False, now=now)
    assert (again.outcome, again.state) == ("unchanged", "refused")
    ledger.load_counts([StockCount("S1", "A", 5, datetime(2026, 11, 26, 1, 0, tzinfo=UTC))])
    later = ledger.reserve(
        OrderDemand("app:1", "app", "S1", now, {"A": 2}, False, "h2-a-status-push"), allow_short=False, now=now
    )
    assert later.state == "refused" and ledger.position("S1", "A")["held"] == 0


def test_an_older_version_after_a_newer_one_changes_nothing(ledger):
    """Versions rank as in the warehouse (ingestion/order_versions.py `_VERSION_ORDER`): by the channel's status
    time, a version stating none below one that does, equal times to the later arrival."""
    count(ledger, "A", 10)

    def version(units: int, status_minute: float | None, cancelled: bool = False) -> OrderDemand:
        status = None if status_minute is None else at(status_minute)
        return OrderDemand("app:1", "app", "S1", at(10), {"A": units}, cancelled, f"{units}|{cancelled}", status)

    assert ledger.reserve(version(2, 11), False, NOW).outcome == "reserved"
    assert ledger.reserve(version(3, 12), False, NOW).outcome == "changed"
    for late in (version(2, 11), version(5, None), version(1, 11.9), version(3, 11, cancelled=True)):
        reply = ledger.reserve(late, False, NOW)
        assert (reply.outcome, reply.state) == ("stale", "active")
        assert ledger.position("S1", "A")["held"] == 3
    assert ledger.reserve(version(4, 12), False, NOW).outcome == "changed", "a tie goes to the later arrival"
    # A status-only push (same lines) moves the bar too: the version before it is stale from then on.
    assert ledger.reserve(OrderDemand("app:1", "app", "S1", at(10), {"A": 4}, False, "status", at(20)),
                          False, NOW).outcome == "unchanged"  # fmt: skip
    assert ledger.reserve(version(2, 15), False, NOW).outcome == "stale"
    assert ledger.reserve(version(4, 21, cancelled=True), False, NOW).outcome == "released"
    assert ledger.position("S1", "A")["held"] == 0
