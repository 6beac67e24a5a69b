"""The live intake under load and under crashes, end to end: a simulated day's orders pushed, signed, by many
concurrent clients at SKUs with a handful of units each, while the gateway, its worker and redis-server are each
SIGKILLed and restarted. Then the landed files go through the batch loader into a real DuckDB warehouse.

What must hold, checked against the warehouse (not against the gateway's own bookkeeping):
- zero oversell: per store and SKU, the units of orders that stayed accepted never exceed the count;
- every order a channel was acknowledged for is in the warehouse, exactly once;
- nothing is double-reserved: what the ledger holds per store and SKU is what those orders hold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import httpx
import pytest
import redis

from ingestion import warehouse
from ingestion.adapters import ADAPTERS
from ingestion.gateway.catalogue import load_catalogue
from ingestion.gateway.reading import Unreadable, read_order
from ingestion.loader import run_batch
from ingestion.stock.reservations import StockLedger
from orchestration.services.live_stack import LiveStack
from orchestration.services.redis_server import available
from simulator import simulate_day
from simulator.live.client import push_all
from simulator.live.signing import load_credentials
from simulator.live.wire import wire_pushes
from tests.e2e import live_day

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = dt.date(2026, 11, 26)
# The four pushing channels carry about 4,100 pushes of these orders: a quarter of a minute at RATE. A bigger day
# proves nothing more: the kills land mid-load by construction (CRASHES), and with UNITS scaled to the demand
# about half the store/SKUs pushed at still run short (measured: 1,149 of 2,182; 30,000 orders at 20 units: 1,536
# of 2,399), and the test asserts the refusals happened.
ORDERS = 5_000
UNITS = 4  # of every SKU at every store: popular SKUs run out during the day, the channels race for the last ones
RATE = 250.0  # pushes started per second (about what the gateway sustains here)
# Each part is killed once this share of the pushes has been started: mid-load by construction, however fast
# the machine sends (a fixed number of seconds would miss the load on a fast one and waste time on a slow one).
CRASHES = ((0.25, "gateway"), (0.5, "worker"), (0.75, "redis"))


class _Started:
    """The pushes, counted as the client starts them, so the test can wait for a share of the load to be out."""

    def __init__(self, pushes) -> None:
        self._pushes = pushes
        self._changed = threading.Condition()
        self.count = 0

    def __iter__(self):
        for push in self._pushes:
            with self._changed:
                self.count += 1
                self._changed.notify_all()
            yield push

    def wait_for(self, count: int, timeout_s: float = 120) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.count >= count, timeout_s):
                raise TimeoutError(f"{self.count:,} pushes started in {timeout_s} s, waiting for {count:,}")


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    if not available():
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)")
    root = tmp_path_factory.mktemp("live")
    simulate_day(DAY, orders=ORDERS, seed=23, out=root / "simulated")
    counts = live_day.prepare(root / "simulated", root / "landing", root / "pushes", DAY, UNITS)
    stack = LiveStack(root / "stack", root / "landing").start()
    try:
        credentials = load_credentials(stack.credentials)
        lines = sum(len(p.read_bytes().splitlines()) for p in (root / "pushes").rglob("*") if p.is_file())  # ~pushes
        pushes = _Started(wire_pushes(root / "pushes", credentials, stack.target))
        outcome: dict = {}

        def load() -> None:
            outcome["report"] = asyncio.run(push_all(pushes, stack.target, concurrency=48, rate=RATE, deadline_s=120.0))

        loader = threading.Thread(target=load)
        loader.start()
        crashes = []
        for share, crash in CRASHES:
            pushes.wait_for(int(share * lines))
            started = time.monotonic()
            if crash == "gateway":
                stack.kill_api()
                stack.start_api()
            elif crash == "worker":
                stack.kill_worker()
                time.sleep(1)
                stack.start_worker()
            else:
                stack.redis.kill()
                time.sleep(1)
                stack.redis.start()
            crashes.append((crash, time.monotonic() - started, loader.is_alive()))
        loader.join()
        report = outcome["report"]
        _wait_for_landing(stack)
        client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
        ledger = StockLedger(client)
        held = {key: (ledger.position(*key) or {}).get("held") for key in counts}
    finally:
        stack.stop()
    con = warehouse.connect(root / "warehouse.duckdb")
    run_batch(con, root / "landing")
    quarantined = _quarantined_orders(con, root / "landing")
    yield {
        "report": report, "counts": counts, "held": held, "con": con, "crashes": crashes, "quarantined": quarantined,
    }  # fmt: skip
    con.close()


def _quarantined_orders(con, landing) -> dict[str, tuple[str, dict[str, int]]]:
    """Orders the gateway took (their stock facts were readable) that the batch path quarantined for something
    else (a phone, an address, an amount): order key → (store, units still held), by its latest quarantined record."""
    catalogue = load_catalogue(landing)
    stores, skus = frozenset(catalogue.store_ids), frozenset(catalogue.products["sku_id"].to_list())
    loaded = {key for (key,) in con.execute("select order_key from raw.orders").fetchall()}
    latest: dict[str, tuple[str, dict[str, int]]] = {}
    rows = con.execute(
        "select channel, raw from raw.quarantine where channel in ('app', 'miniprogram', 'meituan', 'eleme') "
        "order by source_file, source_line"
    ).fetchall()
    for channel, raw in rows:
        try:
            read = read_order(ADAPTERS[channel], raw, stores, skus)
        except Unreadable:
            continue
        if read.order_key not in loaded:
            latest[read.order_key] = (read.store_id, {} if read.cancelled else read.lines)
    return latest


def _wait_for_landing(stack: LiveStack, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        health = httpx.get(stack.target + "/health", timeout=5).json()
        if health.get("backlog") == 0:
            return
        time.sleep(0.5)
    raise TimeoutError(f"the worker did not land the intake log: {health}")


STILL_ACCEPTED_UNITS = """
    with latest as (
        select order_key, arg_max(status, event_time) as status from raw.order_events group by order_key
    )
    select o.store_id, l.sku_id, sum(l.quantity)::bigint as units
    from raw.orders o
    join raw.order_lines l using (order_key)
    join latest s using (order_key)
    where s.status <> 'cancelled' and o.channel in ('app', 'miniprogram', 'meituan', 'eleme')
    group by all
"""


def test_the_load_ran_through_every_crash(live_run):
    report = live_run["report"]
    crashes = live_run["crashes"]
    assert [c for c, *_ in crashes] == ["gateway", "worker", "redis"]
    assert all(mid_load for *_, mid_load in crashes), f"a part was killed after the load had ended: {crashes}"
    assert not report.failed, report.summary()
    orders = {key for _, key in report.acked} | {key for _, key, _ in report.refused}
    assert len(orders) >= 0.65 * ORDERS, f"{len(orders):,} orders pushed"
    assert len({key for _, key in report.acked}) >= ORDERS // 6, report.summary()
    assert sum(code == "out_of_stock" for _, _, code in report.refused) >= 100, "the small stock never ran out"
    # Refused only for stock (our apps), for a record no adapter reads, or for a push that is not its channel's
    # format at all (the simulator breaks some on purpose; the channel hears why): never for a signature.
    codes = {code.partition(":")[0] for _, _, code in report.refused}
    assert codes <= {"out_of_stock", "unreadable", "malformed"}, (codes, report.summary())
    assert {channel for channel, _ in report.acked} == {"app", "miniprogram", "meituan", "eleme"}


def test_zero_oversell_in_the_warehouse(live_run):
    units = live_run["con"].execute(STILL_ACCEPTED_UNITS).fetchall()
    over = [
        (store, sku, n, live_run["counts"][(store, sku)])
        for store, sku, n in units
        if n > live_run["counts"][(store, sku)]
    ]
    assert not over, f"oversold (store, sku, units accepted, count): {over[:10]}"
    assert sum(n for *_, n in units) > 0


def test_every_acknowledged_order_is_in_the_warehouse_exactly_once(live_run):
    con = live_run["con"]
    # A record the client could name only by its file and line is not an order (the batch path quarantines it).
    acked = {f"{channel}:{key}" for channel, key in live_run["report"].acked if ".jsonl:" not in key}
    loaded = dict(con.execute("select order_key, count(*) from raw.orders group by order_key").fetchall())
    # Landed, and quarantined with its reason by the batch path (its phone, address or amounts): not lost.
    quarantined = con.execute(
        "select channel, raw from raw.quarantine where channel in ('app', 'miniprogram', 'meituan', 'eleme')"
    ).fetchall()
    missing = sorted(
        key
        for key in acked - loaded.keys()
        if not any(channel == key.split(":")[0] and key.split(":", 1)[1] in raw for channel, raw in quarantined)
    )
    assert not missing, f"{len(missing)} acknowledged orders neither loaded nor quarantined, e.g. {missing[:5]}"
    assert all(n == 1 for n in loaded.values())


def test_the_ledger_holds_exactly_what_the_warehouse_says_is_accepted(live_run):
    units = {(store, sku): n for store, sku, n in live_run["con"].execute(STILL_ACCEPTED_UNITS).fetchall()}
    # The gateway also holds the units of orders it took that the batch path then quarantined.
    for store, lines in live_run["quarantined"].values():
        for sku, n in lines.items():
            units[(store, sku)] = units.get((store, sku), 0) + n
    differ = [
        (key, live_run["held"][key], units.get(key, 0))
        for key in live_run["counts"]
        if (live_run["held"][key] or 0) != units.get(key, 0)
    ]
    assert not differ, f"(store, sku), held in Redis, accepted in the warehouse: {differ[:10]}"
