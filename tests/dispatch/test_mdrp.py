"""The MDRP replay: reader, simulation accounting, metrics on a hand-computed case, one real instance."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from routing_fixtures import SHARED_DATA

from dispatch.mdrp import GreedyPolicy, MdrpFormatError, RollingPolicy, Simulation, check_run, metrics, read_instance
from dispatch.mdrp.simulation import REASON_UNREACHABLE

PARAMS = (
    "meters_per_minute\tpickup service minutes\tdropoff service minutes\ttarget click-to-door\t"
    "maximum click-to-door\tpay per order\tguaranteed pay per hour\n300\t4\t2\t20\t90\t10\t15\n"
)


def write_instance(folder: Path, orders: str, couriers: str, restaurants: str, params: str = PARAMS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.txt").write_text("order\tx\ty\tplacement_time\trestaurant\tready_time\n" + orders)
    (folder / "couriers.txt").write_text("courier\tx\ty\ton_time\toff_time\n" + couriers)
    (folder / "restaurants.txt").write_text("restaurant\tx\ty\n" + restaurants)
    (folder / "instance_parameters.txt").write_text(params)
    return folder


@pytest.fixture
def two_orders(tmp_path: Path) -> Path:
    # One restaurant at the origin, one courier waiting there for an hour, two orders 600 m east and 1200 m north.
    return write_instance(
        tmp_path / "tiny",
        orders="o1\t600\t0\t0\tr1\t10\no2\t0\t1200\t5\tr1\t12\n",
        couriers="c1\t0\t0\t0\t60\n",
        restaurants="r1\t0\t0\n",
    )


def test_reader_takes_units_and_rules_from_the_files(two_orders: Path) -> None:
    inst = read_instance(two_orders)
    assert inst.name == "tiny" and set(inst.orders) == {"o1", "o2"} and inst.couriers["c1"].paid_minutes == 60
    assert inst.params.meters_per_minute == 300 and inst.params.pickup_service == 4
    assert inst.params.target_click_to_door == 20
    # ceil(metres / metres per minute): 601 m at 300 m/min is 3 minutes
    assert inst.minutes(inst.restaurants["r1"].at, replace(inst.restaurants["r1"].at, x=601)) == 3


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        (
            "orders.txt",
            "order\tx\ty\tplacement_time\trestaurant\tready_time\no1\t1\t1\t0\tr9\t5\n",
            "unknown restaurant",
        ),
        ("orders.txt", "order\tx\ty\tplacement\trestaurant\tready_time\n", "header"),
        ("orders.txt", "order\tx\ty\tplacement_time\trestaurant\tready_time\no1\t1\tz\t0\tr1\t5\n", "non-numeric"),
        ("orders.txt", "order\tx\ty\tplacement_time\trestaurant\tready_time\no1\t1\t1\t9\tr1\t5\n", "before placed"),
        ("couriers.txt", "courier\tx\ty\ton_time\toff_time\nc1\t0\t0\t60\t30\n", "ends its shift"),
        ("instance_parameters.txt", "meters_per_minute\n300\n", "header"),
    ],
)
def test_reader_rejects_a_malformed_folder_clearly(two_orders: Path, file: str, content: str, message: str) -> None:
    (two_orders / file).write_text(content)
    with pytest.raises(MdrpFormatError, match=message):
        read_instance(two_orders)


def test_reader_names_a_missing_file(two_orders: Path) -> None:
    (two_orders / "couriers.txt").unlink()
    with pytest.raises(MdrpFormatError, match="couriers.txt: missing"):
        read_instance(two_orders)


def test_greedy_metrics_on_the_hand_computed_two_order_day(two_orders: Path) -> None:
    inst = read_instance(two_orders)
    run = Simulation(inst, capacity=3).run(GreedyPolicy())
    assert check_run(run) == []
    # o1: assigned at its ready time 10, courier already there, picked up 10, leaves 14, 2 min drive -> 16,
    # free at 18 at (600, 0). o2 waits: at 18 the courier drives 2 min back, picks up 20, leaves 24,
    # 4 min drive -> 28. Driven: 600 m, then 600 + 1200 m.
    assert [(t.orders, t.pickup, t.dropoffs) for t in run.trips] == [(("o1",), 10, (16,)), (("o2",), 20, (28,))]
    m = metrics(run)
    assert m["delivered"] == 2 and m["undelivered"] == 0
    assert m["click_to_door_min"]["mean"] == 19.5  # (16 - 0 + 28 - 5) / 2
    assert m["ready_to_door_min"]["mean"] == 11.0  # (6 + 16) / 2
    assert m["on_time_pct"] == 50.0  # 16 <= 20 < 23
    assert m["orders_per_courier_hour"] == 2.0  # two orders over one paid hour
    assert m["km_per_order"] == 1.2  # 2.4 km / 2
    assert m["courier_payment"] == 20.0  # max(2 x 10, 1 h x 15)


def test_rolling_bundles_the_restaurant_s_two_orders(two_orders: Path) -> None:
    run = Simulation(read_instance(two_orders), capacity=3).run(RollingPolicy(period=5))
    assert check_run(run) == []
    # At t=5 the courier would wait at the restaurant, so the bundle waits; at t=10 it goes: pickup at the
    # later ready time 12, leaves 16, o1 at 18, o2 (1342 m on, 5 min) at 18 + 2 + 5 = 25.
    assert [(t.assigned_at, t.orders, t.pickup, t.dropoffs) for t in run.trips] == [(10, ("o1", "o2"), 12, (18, 25))]
    assert metrics(run)["on_time_pct"] == 100.0


def test_capacity_one_keeps_every_trip_single(two_orders: Path) -> None:
    run = Simulation(read_instance(two_orders), capacity=1).run(RollingPolicy(period=5))
    assert check_run(run) == [] and all(len(t.orders) == 1 for t in run.trips)


def test_unreachable_order_is_reported_with_its_reason(tmp_path: Path) -> None:
    folder = write_instance(
        tmp_path / "far",
        orders="o1\t600\t0\t0\tr1\t10\no2\t90000\t0\t0\tr2\t10\n",
        couriers="c1\t0\t0\t0\t60\n",
        restaurants="r1\t0\t0\nr2\t90000\t0\n",
    )
    for policy in (GreedyPolicy(), RollingPolicy()):
        run = Simulation(read_instance(folder)).run(policy)
        assert check_run(run) == []
        assert [t.orders for t in run.trips] == [("o1",)]
        assert run.unassigned == {"o2": REASON_UNREACHABLE}  # 300 min away, shift ends at 60


def test_simulation_refuses_a_trip_that_breaks_the_rules(two_orders: Path) -> None:
    sim = Simulation(read_instance(two_orders), capacity=1)
    with pytest.raises(ValueError, match="capacity"):
        sim.commit("c1", ["o1", "o2"], 10)
    with pytest.raises(ValueError, match="not yet placed"):
        sim.commit("c1", ["o2"], 1)
    sim.commit("c1", ["o1"], 10)
    with pytest.raises(ValueError, match="not idle"):
        sim.commit("c1", ["o2"], 11)


def test_check_run_catches_a_lost_order(two_orders: Path) -> None:
    run = Simulation(read_instance(two_orders)).run(GreedyPolicy())
    run.trips.pop()
    assert any("delivered 0 times" in p for p in check_run(run))


@pytest.mark.parametrize("policy", [GreedyPolicy, RollingPolicy])
def test_a_real_grubhub_instance_is_fully_accounted(policy) -> None:
    folder = SHARED_DATA / "delivery" / "grubhub_mdrp" / "0o100t100s1p100"
    if not folder.exists():
        pytest.skip(f"Grubhub MDRP instances not found at {folder} (shared/data beside the project); skipping")
    inst = read_instance(folder)
    run = Simulation(inst).run(policy())
    assert check_run(run) == []
    m = metrics(run)
    assert m["delivered"] + m["undelivered"] == len(inst.orders) == 505
    assert m["paid_courier_hours"] == 303.0  # instance_characteristics.txt: total courier hours 303.00
    assert 0 < m["on_time_pct"] <= 100 and m["km_per_order"] > 0


def test_check_run_catches_a_trip_whose_times_do_not_add_up(two_orders: Path) -> None:
    run = Simulation(read_instance(two_orders)).run(GreedyPolicy())
    run.trips[1] = replace(run.trips[1], dropoffs=(27,))  # one minute faster than the drive allows
    assert any("recomputed timeline" in p for p in check_run(run))
