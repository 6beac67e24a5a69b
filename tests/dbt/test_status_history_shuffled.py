"""Status history and current status do not depend on how events arrive.

One simulated day is loaded twice through the real loader: in order (reference data, then each channel's
files in the order they were written, as chronological micro-batches), and shuffled (the same files in a
random order, in random micro-batches, a tenth of them delivered twice under another name). Shuffling
files makes status pushes arrive before the order's first push, a later status before an earlier one, and
the same push twice. dbt then builds both, and every order's current status, milestone times and whole
status history (with stage durations) must be identical.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_harness import run_dbt

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import load_truth, simulate_day

pytestmark = pytest.mark.slow
DAY = dt.date(2026, 11, 26)
ORDERS = 1500
SEED = 404
MICRO_BATCHES = 12

STATUS_COLUMNS = (
    "order_key, current_status, status_at, paid_at, picked_at, dispatched_at, delivered_at, cancelled_at, event_count"
)
HISTORY_COLUMNS = (
    "order_key, change_no, status, changed_at, previous_status, transition, seconds_since_previous, "
    "seconds_in_status, is_current"
)


def _load(landing: Path, files: list[tuple[str, Path]], wh: Path, stage: Path, batches: int) -> None:
    """Copy (name, landing file) into `stage` a micro-batch at a time, reference data first, loading each."""
    con = warehouse.connect(wh)
    try:
        for ref in sorted((landing / "reference").rglob("*.jsonl")):
            target = stage / ref.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ref, target)
        run_batch(con, stage)
        size = -(-len(files) // batches)
        for start in range(0, len(files), size):
            for name, source in files[start : start + size]:
                target = stage / source.relative_to(landing)
                target = target.with_name(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            run_batch(con, stage)
    finally:
        con.close()


@pytest.fixture(scope="module")
def two_loads(tmp_path_factory):
    root = tmp_path_factory.mktemp("shuffled_events")
    landing = root / "landing"
    simulate_day(DAY, ORDERS, SEED, landing)
    order_files = sorted((landing / "orders").rglob("*.*"), key=lambda p: (p.name.split("-")[1], p.as_posix()))
    in_order = [(p.name, p) for p in order_files]
    rng = random.Random(SEED)
    shuffled = [(p.name, p) for p in order_files]
    shuffled += [(f"again-{p.name}", p) for p in rng.sample(order_files, len(order_files) // 10)]
    rng.shuffle(shuffled)
    built = {}
    for label, files in (("in_order", in_order), ("shuffled", shuffled)):
        wh = root / f"{label}.duckdb"
        _load(landing, files, wh, root / f"stage_{label}", MICRO_BATCHES)
        result = run_dbt(["run", "--select", "+fct_order_status_history", "+fct_orders"], wh, root / label)
        assert result.returncode == 0, result.stdout[-4000:]
        built[label] = wh
    yield built, load_truth(landing, DAY)


def _rows(wh: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_shuffle_really_reordered_and_duplicated_events(two_loads) -> None:
    """The shuffled load is not a replay in disguise: some orders were first seen through a later status
    push, some pushes arrived as duplicates, and event arrival order disagrees with event time."""
    built, _ = two_loads
    wh = built["shuffled"]
    first_seen_late = _rows(
        wh,
        "select count(*) from raw.orders where status not in ('created', 'paid', 'cancelled') "
        "and channel in ('app', 'miniprogram', 'meituan')",
    )[0][0]
    duplicates = _rows(wh, "select sum(duplicate) from raw.ingest_batches where channel not like 'reference/%'")[0][0]
    inverted = _rows(
        wh,
        """
        select count(*) from raw.order_events a join raw.order_events b
          on a.order_key = b.order_key and a.event_time < b.event_time and a.received_at > b.received_at""",
    )[0][0]
    assert first_seen_late > 20 and duplicates > 50 and inverted > 100, (first_seen_late, duplicates, inverted)


def test_current_status_and_milestones_equal_in_order_delivery(two_loads) -> None:
    """Every order's current status, status time, milestone times and event count are the same however
    its events arrived."""
    built, truth = two_loads
    in_order = _rows(built["in_order"], f"select {STATUS_COLUMNS} from marts.fct_orders order by order_key")
    shuffled = _rows(built["shuffled"], f"select {STATUS_COLUMNS} from marts.fct_orders order by order_key")
    assert len(in_order) == truth["orders"]
    assert shuffled == in_order


def test_status_history_and_durations_equal_in_order_delivery(two_loads) -> None:
    """The whole history (every change, its time, the stage it ended and how long that took) is identical."""
    built, _ = two_loads
    sql = f"select {HISTORY_COLUMNS} from marts.fct_order_status_history order by order_key, change_no"
    in_order, shuffled = _rows(built["in_order"], sql), _rows(built["shuffled"], sql)
    assert len(in_order) > 3 * ORDERS
    assert shuffled == in_order


def test_current_status_matches_the_pushes_the_channels_sent(two_loads) -> None:
    """Against the ground truth: an order is delivered now exactly when its channel pushed a delivered
    status (till sales are delivered at the till), and every order's last history row is its current
    status."""
    built, truth = two_loads
    wh = built["shuffled"]
    delivered = {k for (k,) in _rows(wh, "select order_key from marts.fct_orders where current_status = 'delivered'")}
    pushed = {u["order_key"] for u in truth["status_updates"] if u["status"] == "delivered"}
    tills = {k for k in truth["order_customer"] if k.startswith("pos:")} - set(truth["cancelled"])
    assert delivered == pushed | tills
    mismatched = _rows(
        wh,
        """
        select count(*) from marts.fct_orders o join marts.fct_order_status_history h
          on h.order_key = o.order_key and h.is_current
        where h.status <> o.current_status or h.changed_at > o.status_at""",
    )[0][0]
    assert mismatched == 0
