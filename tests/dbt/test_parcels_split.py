"""The split half of merge-and-split: int_parcels__items, the Python packer int_parcels__assignments,
fct_parcels, fct_parcel_items and fct_merge_savings_daily, on a small hand-written set of orders whose
right answer is known.

The packer's algorithm is tested directly (fast, not marked); everything else builds a private warehouse
once per module with `dbt build --select +fct_parcels+ +fct_parcel_items+ +fct_merge_savings_daily` (the merge
models of the lead included, so the parcels come from real merge groups; the savings mart named, since it sums
int_parcels__merge_savings rather than fct_parcels) and is marked slow.

Scenarios (all delivery, paid, 2026-11-26 local; one customer and address per scenario):
  SH001  Z  two orders 10 min apart: rice (ambient) then dumplings (frozen) -> 1 merge group, 2 parcels
         M  three orders within 20 min, chilled greens -> 1 merge group, 1 parcel
         S  a single small order -> 1 parcel
         X  a cancelled order and a self-pickup order at Z's address -> no parcel at all
  SH002  H  two orders of 4 x 5 kg each (40 kg) -> lines split 3+1 units, the minimal 3 parcels
         O  a 20 kg melon box (one unit over the limit) + a bag of rice -> 2 parcels, one oversize
         V  3 x 15 L water (45 L, over the 40 L volume limit) -> 2 parcels
         E  six ambient lines 7/6/4.5/4/4/3 kg where first-fit decreasing needs 3 parcels but 2 suffice
            (e.g. 7+4.5+3, 6+4+4) -> the exact search finds 2
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
import yaml
from dbt_harness import PROJECT_DIR, RULES_FILE, DbtResult, insert_rows, line, order, run_dbt

from ingestion.contract import raw_schema_ddl

RULES = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
MAX_W = RULES["parcel_max_weight_g"]
MAX_V = RULES["parcel_max_volume_ml"]
DAY = date(2026, 11, 26)
SELECT = ["--select", "+fct_parcels+", "+fct_parcel_items+", "+fct_merge_savings_daily"]

# ----------------------------------------------------------------------------------------------------
# The packer, imported straight from the dbt Python model file (its helpers have no dbt dependency).
# ----------------------------------------------------------------------------------------------------


def _packer() -> ModuleType:
    path = PROJECT_DIR / "models" / "intermediate" / "parcels" / "int_parcels__assignments.py"
    spec = importlib.util.spec_from_file_location("int_parcels__assignments", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pack(
    weights: list[int], volumes: list[int] | None = None, oversize: list[bool] | None = None
) -> tuple[list[int], int, bool, str]:
    n = len(weights)
    return _packer().pack_group(
        weights, volumes or [1000] * n, oversize or [False] * n, [(f"o:{i}", i, 1) for i in range(n)], MAX_W, MAX_V
    )


def _parcels(assignment: list[int], values: list[int]) -> list[int]:
    """Totals per parcel, in parcel order."""
    return [sum(v for p, v in zip(assignment, values) if p == b) for b in range(1, max(assignment) + 1)]


def test_packer_minimal_when_ffd_meets_the_bound() -> None:
    """Eight 5 kg items (40 kg) pack into ceil(40/15) = 3 parcels by first-fit decreasing; reaching the
    lower bound proves the count minimal, no parcel is over the limit, and parcels are numbered 1..3."""
    got, lower, proven, method = _pack([5000] * 8)
    assert (max(got), lower, proven, method) == (3, 3, True, "ffd")
    assert _parcels(got, [5000] * 8) == [15000, 15000, 10000]


def test_packer_exact_search_beats_ffd() -> None:
    """7/6/4.5/4/4/3 kg: first-fit decreasing opens 3 parcels (7+6, 4.5+4+4, 3) but 2 suffice
    (e.g. 7+4.5+3, 6+4+4); for 10 items or fewer the exact search finds 2 and proves them minimal."""
    weights = [7000, 6000, 4500, 4000, 4000, 3000]
    order = sorted(range(6), key=lambda i: -weights[i])
    assert len(_packer()._first_fit(order, weights, [1000] * 6, MAX_W, MAX_V)) == 3
    got, lower, proven, method = _pack(weights)
    assert (max(got), lower, proven, method) == (2, 2, True, "exact")
    assert max(_parcels(got, weights)) <= MAX_W


def test_packer_respects_volume_and_half_limit_bound() -> None:
    """Volume binds as well as weight: three light 25 L items cannot share (any two are over 40 L), and the
    'items over half a limit' bound proves 3 parcels minimal although the plain volume bound says 2."""
    got, lower, proven, _ = _pack([1000, 1000, 1000], [25000, 25000, 25000])
    assert (max(got), lower, proven) == (3, 3, True)


def test_packer_oversize_units_travel_alone_and_last() -> None:
    """An oversize unit gets a parcel of its own, numbered after the normal parcels; it counts in the
    lower bound, so a group of one normal item and two oversize units is a proven 3."""
    got, lower, proven, _ = _pack([20000, 1000, 30000], [1000, 1000, 1000], [True, False, True])
    assert got == [2, 1, 3]
    assert (lower, proven) == (3, True)


def test_packer_reports_unproven_when_too_big_to_search() -> None:
    """With more than 10 items and first-fit decreasing above the lower bound, no exact search runs and
    is_proven_minimal is false (the column is honest, not always true). Twelve 7.6 kg items: 12 parcels
    by any packing (no two fit), bound 12 by the half-limit rule: proven. Twelve items of 8/6.5/6.5/4.5/2.5/2
    kg twice (60 kg): 4 parcels of exactly 15 kg exist, first-fit decreasing finds 5: not proven."""
    got, lower, proven, _ = _pack([7600] * 12)
    assert (max(got), lower, proven) == (12, 12, True)
    weights = [8000, 6500, 6500, 4500, 2500, 2000] * 2
    got, lower, proven, method = _pack(weights)
    assert (max(got), lower, proven, method) == (5, 4, False, "ffd")
    assert max(_parcels(got, weights)) <= MAX_W


# ----------------------------------------------------------------------------------------------------
# The dbt models on a hand-written dataset.
# ----------------------------------------------------------------------------------------------------

CUSTOMERS = {  # scenario -> (store, mobile, address_key)
    "Z": ("SH001", "13900000001", "310115|碧波路690号1号楼101"),
    "M": ("SH001", "13900000002", "310115|碧波路690号2号楼202"),
    "S": ("SH001", "13900000003", "310115|碧波路690号3号楼303"),
    "H": ("SH002", "13900000004", "310104|漕溪北路88号4号楼404"),
    "O": ("SH002", "13900000005", "310104|漕溪北路88号5号楼505"),
    "V": ("SH002", "13900000006", "310104|漕溪北路88号6号楼606"),
    "E": ("SH002", "13900000007", "310104|漕溪北路88号7号楼707"),
}


def parcel_order(key: str, scenario: str, created: str, **kwargs: Any) -> dict[str, Any]:
    """A delivery order of the scenario's customer (full mobile number) at the scenario's address."""
    store, mobile, address_key = CUSTOMERS[scenario]
    row = order(key, created, store=store, **kwargs)
    row.update(
        phone=mobile,
        phone_kind="mobile",
        phone_last4=mobile[-4:],
        address_key=address_key,
        channel_user_id=f"user-{scenario}",
        recipient_name="王芳",
    )
    return row


ORDERS = [
    parcel_order("app:Z1", "Z", "2026-11-26 02:00:00"),
    parcel_order("miniprogram:Z2", "Z", "2026-11-26 02:10:00"),
    parcel_order("app:X1", "Z", "2026-11-26 02:12:00", status="cancelled"),
    parcel_order("groupbuy:X2", "Z", "2026-11-26 02:14:00", fulfilment="self_pickup"),
    parcel_order("app:M1", "M", "2026-11-26 03:00:00"),
    parcel_order("meituan:M2", "M", "2026-11-26 03:08:00"),
    parcel_order("eleme:M3", "M", "2026-11-26 03:20:00"),
    parcel_order("app:S1", "S", "2026-11-26 04:00:00"),
    parcel_order("app:H1", "H", "2026-11-26 02:30:00"),
    parcel_order("app:H2", "H", "2026-11-26 02:40:00"),
    parcel_order("app:O1", "O", "2026-11-26 05:00:00"),
    parcel_order("app:V1", "V", "2026-11-26 06:00:00"),
    parcel_order("app:E1", "E", "2026-11-26 07:00:00"),
]

LINES = [
    line("app:Z1", 1, "RICE5KG", 1, 5000, 6000, "ambient"),
    line("miniprogram:Z2", 1, "DUMPLINGS", 2, 500, 800, "frozen"),
    line("app:X1", 1, "RICE5KG", 1, 5000, 6000, "ambient"),
    line("groupbuy:X2", 1, "DUMPLINGS", 1, 500, 800, "frozen"),
    line("app:M1", 1, "SPINACH", 2, 300, 500, "chilled"),
    line("meituan:M2", 1, "SPINACH", 1, 300, 500, "chilled"),
    line("eleme:M3", 1, "MILK", 2, 1000, 1000, "chilled"),
    line("app:S1", 1, "NOODLES", 1, 500, 1500, "ambient"),
    line("app:H1", 1, "RICE5KG", 4, 5000, 6000, "ambient"),
    line("app:H2", 1, "OIL5L", 4, 5000, 4000, "ambient"),
    line("app:O1", 1, "MELONBOX20KG", 1, 20000, 30000, "ambient"),
    line("app:O1", 2, "RICE5KG", 1, 5000, 6000, "ambient"),
    line("app:V1", 1, "WATER15L", 3, 1000, 15000, "ambient"),
    *[
        line("app:E1", i, f"SKU{w}", 1, w, 2000, "ambient")
        for i, w in enumerate([7000, 6000, 4500, 4000, 4000, 3000], start=1)
    ],
]


@pytest.fixture(scope="module")
def parcels_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DbtResult]:
    """The dataset above after `dbt build` of the parcel models and their parents."""
    workdir = tmp_path_factory.mktemp("dbt_parcels")
    warehouse = workdir / "orderhub.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        for statement in raw_schema_ddl():
            con.execute(statement)
        insert_rows(con, "orders", ORDERS)
        insert_rows(con, "order_lines", LINES)
    finally:
        con.close()
    result = run_dbt(["build", *SELECT], warehouse, workdir)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}"
    return warehouse, result


@pytest.fixture(scope="module")
def query(parcels_build: tuple[Path, DbtResult]) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    con = duckdb.connect(str(parcels_build[0]), read_only=True)
    try:
        yield lambda sql: con.execute(sql).fetchall()
    finally:
        con.close()


def _scenario(query, scenario: str) -> list[tuple[Any, ...]]:
    """(travel_group, parcel_no, temp_zones, weight_g, volume_ml, order_keys, is_split, split_reason,
    oversize_unit) of the parcels of the scenario's customer, in parcel order."""
    _, mobile, _ = CUSTOMERS[scenario]
    return query(f"""
        select travel_group, parcel_no, temp_zones, weight_g, volume_ml, order_keys, is_split, split_reason,
               oversize_unit
        from marts.fct_parcels where customer_id like '%{mobile}%' order by travel_group, parcel_no""")


@pytest.mark.slow
def test_build_ran_parcel_tests(parcels_build: tuple[Path, DbtResult]) -> None:
    """The build ran the unit tests of int_parcels__items and the singular parcel tests (limits, coverage,
    savings arithmetic), and everything passed: a test that silently stopped running would show here."""
    results = {r["unique_id"]: r["status"] for r in parcels_build[1].run_results()}
    for name in (
        "parcel_items_overweight_line_split_by_quantity",
        "parcel_items_oversize_unit_travels_alone",
        "parcel_items_zone_to_travel_group",
    ):
        assert results.get(f"unit_test.orderhub.int_parcels__items.{name}") == "pass", name
    for name in ("assert_parcels_within_limits", "assert_every_item_in_one_parcel", "assert_merge_savings_add_up"):
        assert results.get(f"test.orderhub.{name}") == "pass", name
    assert results.get("model.orderhub.int_parcels__assignments") == "success"
    assert all(s in ("pass", "success") for s in results.values()), results


@pytest.mark.slow
def test_frozen_and_ambient_split_into_two_parcels(query) -> None:
    """Two orders merged into one group (rice, then frozen dumplings 10 min later) leave as two parcels,
    ambient and cold, each holding its own order, with the zone reason; the cancelled and self-pickup
    orders at the same address are in no parcel."""
    assert _scenario(query, "Z") == [
        ("ambient", 1, "ambient", 5000, 6000, "app:Z1", True, "zones: frozen not with ambient", False),
        ("cold", 1, "frozen", 1000, 1600, "miniprogram:Z2", True, "zones: frozen not with ambient", False),
    ]
    assert query("select count(*) from marts.fct_parcel_items where order_key in ('app:X1', 'groupbuy:X2')") == [(0,)]


@pytest.mark.slow
def test_merged_orders_share_one_parcel(query) -> None:
    """Three chilled orders of one customer within 20 minutes, on three channels, are one parcel that lists
    all three orders and carries the merge reason; a lone order is one parcel without a split."""
    rows = query("""select order_count, order_keys, weight_g, is_split, split_reason, merge_reason is not null
                    from marts.fct_parcels where customer_id like '%13900000002%'""")
    assert rows == [(3, "app:M1,eleme:M3,meituan:M2", 3 * 300 + 2000, False, None, True)]
    assert _scenario(query, "S") == [("ambient", 1, "ambient", 500, 1500, "app:S1", False, None, False)]


@pytest.mark.slow
def test_forty_kilos_split_into_the_minimal_three_parcels(query) -> None:
    """Two merged orders of 4 x 5 kg (each line 20 kg, over the 15 kg limit, so split by quantity into 3 + 1
    units) make 40 kg: exactly ceil(40/15) = 3 parcels, none over 15 kg, proven minimal, and the split
    lines' chunks add up to the lines."""
    rows = _scenario(query, "H")
    assert [r[3] for r in rows] == [15000, 15000, 10000]
    assert {r[7] for r in rows} == {"over weight limit 15000 g"}
    assert query("""select count(*), bool_and(is_proven_minimal), max(lower_bound_parcels)
                    from marts.fct_parcels where customer_id like '%13900000004%'""") == [(3, True, 3)]
    chunks = query("""select order_key, line_no, chunk_no, quantity, weight_g from marts.fct_parcel_items
                      where order_key in ('app:H1', 'app:H2') order by all""")
    assert chunks == [
        ("app:H1", 1, 1, 3, 15000),
        ("app:H1", 1, 2, 1, 5000),
        ("app:H2", 1, 1, 3, 15000),
        ("app:H2", 1, 2, 1, 5000),
    ]


@pytest.mark.slow
def test_oversize_volume_and_exact_cases(query) -> None:
    """A 20 kg single unit travels alone in a flagged parcel beside a normal one; 45 L of water splits
    2 + 1 packs on volume; six lines that first-fit decreasing would put in 3 parcels go in 2 (exact)."""
    assert _scenario(query, "O") == [
        (
            "ambient",
            1,
            "ambient",
            5000,
            6000,
            "app:O1",
            True,
            "over weight limit 15000 g; unit over parcel limit",
            False,
        ),
        (
            "ambient",
            2,
            "ambient",
            20000,
            30000,
            "app:O1",
            True,
            "over weight limit 15000 g; unit over parcel limit",
            True,
        ),
    ]
    assert [(r[3], r[4], r[7]) for r in _scenario(query, "V")] == [
        (2000, 30000, "over volume limit 40000 ml"),
        (1000, 15000, "over volume limit 40000 ml"),
    ]
    rows = query("""select weight_g, packing_method, is_proven_minimal from marts.fct_parcels
                    where customer_id like '%13900000007%' order by parcel_no""")
    assert len(rows) == 2 and sum(r[0] for r in rows) == 28500 and max(r[0] for r in rows) <= MAX_W
    assert {r[1:] for r in rows} == {("exact", True)}


@pytest.mark.slow
def test_no_parcel_breaks_a_limit_or_mixes_travel_groups(query) -> None:
    """Independently of the dbt test: every parcel but the oversize one is within both limits, and no
    parcel holds a frozen and an ambient item together."""
    over = query(f"""select parcel_id from marts.fct_parcels
                     where not oversize_unit and (weight_g > {MAX_W} or volume_ml > {MAX_V})""")
    assert over == []
    mixed = query("""select parcel_id from marts.fct_parcel_items group by parcel_id
                     having bool_or(temp_zone = 'ambient') and bool_or(temp_zone in ('chilled', 'frozen'))""")
    assert mixed == []
    assert query("select count(*) from marts.fct_parcels where oversize_unit") == [(1,)]


@pytest.mark.slow
def test_merge_savings_daily(query) -> None:
    """Per day and store, counted from the scenarios by hand: SH001 has 6 deliverable orders (the cancelled
    and self-pickup ones excluded) in 3 merge groups that leave as 4 parcels (the frozen/ambient group splits
    once): 2 parcels saved. SH002 has 5 orders in 4 merge groups (H is 2 orders) that leave as 3 + 2 + 2 + 2 =
    9 parcels: 4 groups split by limits, 5 extra parcels, one oversize, 4 more parcels than orders. Packed
    alone, the orders would need 6 parcels in SH001 (Z's two orders are in different zones anyway) and 10 in
    SH002 (H1 and H2 need 2 each alone, 3 together): merging saved 2 and 1."""
    rows = query("""
        select store_id, delivery_orders, parcels_without_merge, merged_orders, merge_groups, parcels_after_split,
               split_merge_groups, split_by_zone_merge_groups, split_by_limits_merge_groups, split_extra_parcels,
               oversize_parcels, parcels_saved, parcels_split_without_merge, parcels_saved_by_merge
        from marts.fct_merge_savings_daily where business_date = date '2026-11-26' order by store_id""")
    assert rows == [
        ("SH001", 6, 6, 5, 3, 4, 1, 1, 0, 1, 0, 2, 6, 2),
        ("SH002", 5, 5, 2, 4, 9, 4, 0, 4, 5, 1, -4, 10, 1),
    ]


@pytest.mark.slow
def test_limit_and_coverage_tests_can_fail(parcels_build: tuple[Path, DbtResult], tmp_path: Path) -> None:
    """The singular tests are not vacuous: on a copy of the warehouse, moving a 5 kg chunk into a full
    15 kg parcel (a packer bug) fails assert_parcels_within_limits, and losing an item fails
    assert_every_item_in_one_parcel."""
    copy = tmp_path / "orderhub.duckdb"
    copy.write_bytes(parcels_build[0].read_bytes())
    con = duckdb.connect(str(copy))
    try:
        ((full, light),) = con.execute("""
            select max(parcel_id) filter (where weight_g = 15000), max(parcel_id) filter (where weight_g = 10000)
            from marts.fct_parcels where customer_id like '%13900000004%'""").fetchall()
        con.execute(
            """update marts.fct_parcel_items set parcel_id = ?
                       where parcel_id = ? and chunk_no = 2 and order_key = 'app:H1'""",
            [full, light],
        )
        con.execute("update marts.fct_parcels set weight_g = weight_g + 5000 where parcel_id = ?", [full])
        con.execute("update marts.fct_parcels set weight_g = weight_g - 5000 where parcel_id = ?", [light])
        con.execute("delete from marts.fct_parcel_items where order_key = 'app:S1'")
    finally:
        con.close()
    result = run_dbt(
        ["test", "--select", "assert_parcels_within_limits", "assert_every_item_in_one_parcel"], copy, tmp_path
    )
    assert result.returncode != 0
    assert result.status_of("assert_parcels_within_limits") == ["fail"]
    assert result.status_of("assert_every_item_in_one_parcel") == ["fail"]
