"""A simulated day with deliberate problems, through the loader and the whole dbt build: every injected
oversell, price error, bad address and late order is found, and nothing else is flagged.

The simulator records what it injected and what the pipeline should report open (`problems` in the
ground truth, judged with the business's own thresholds, which the simulator holds without reading
config/rules.yml); its other orders progress to delivery on time
through status pushes in later files, with stock sized so that nothing else oversells.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "dbt"))
from dbt_harness import run_dbt  # noqa: E402

from ingestion import warehouse  # noqa: E402
from ingestion.loader import run_batch  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
KINDS = ("out_of_stock", "price_mismatch", "bad_address", "late_risk", "payment_missing")


@pytest.fixture(scope="module")
def built_day(simulated_day, tmp_path_factory):
    landing, truth = simulated_day
    root = tmp_path_factory.mktemp("injected_problems")
    wh = root / "orderhub.duckdb"
    con = warehouse.connect(wh)
    run_batch(con, landing)
    con.close()
    result = run_dbt(["build"], wh, root)
    assert result.returncode == 0, result.stdout[-5000:]
    con = duckdb.connect(str(wh), read_only=True)
    yield con, truth["problems"], result
    con.close()


def test_pipeline_config_matches_the_business_thresholds(built_day) -> None:
    """The simulator judges with the business's thresholds (its own copy, not read from config/rules.yml);
    the pipeline's configured tolerances must be those same business numbers, or the comparison is void."""
    _, problems, _ = built_day
    rules = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))
    used = problems["rules"]
    assert used["late_risk_minutes"] == rules["late_risk_minutes"]
    assert used["price_tolerance_yuan"] == rules["price_tolerance_yuan"]
    assert used["cross_channel_price_tolerance_pct"] == rules["cross_channel_price_tolerance_pct"]
    assert used["channel_price_factor"] == rules["channel_price_factor"]


def test_every_injected_case_is_found_and_nothing_else(built_day) -> None:
    """Open exceptions per kind equal the truth's expectation exactly; every injected case is among them,
    each kind was injected (so the comparison proves something), and no other kind is open."""
    con, problems, _ = built_day
    found: dict[str, set[str]] = {}
    for kind, key in con.execute(
        "select exception_type, order_key from marts.fct_exceptions where resolved_at is null"
    ).fetchall():
        found.setdefault(kind, set()).add(key)
    assert set(found) <= set(KINDS), sorted(set(found) - set(KINDS))
    expected = {kind: set(problems["expected_exceptions"][kind]) for kind in KINDS}
    report = {kind: (len(found.get(kind, ())), len(expected[kind])) for kind in KINDS}
    # Floors measured on the independent simulator (POI addresses without a district, shared doors, masks
    # 138*****678): every kind measured 1.000 / 1.000 (10 oversells, 34 price mismatches, 10 bad addresses,
    # 10 late); the floors leave one miss of margin. Not goals: raise them.
    floors = {
        "out_of_stock": (0.9, 0.9),
        "price_mismatch": (0.95, 0.95),
        "bad_address": (0.9, 0.9),
        "late_risk": (0.9, 0.9),
        "payment_missing": (0.0, 0.0),
    }
    for kind in KINDS:
        got, want = found.get(kind, set()), expected[kind]
        precision = len(got & want) / len(got) if got else 1.0
        recall = len(got & want) / len(want) if want else 1.0
        print(f"{kind}: precision {precision:.3f} recall {recall:.3f} ({len(got)} found, {len(want)} expected)")
        assert precision >= floors[kind][0] and recall >= floors[kind][1], (
            kind,
            report,
            precision,
            recall,
            sorted(want - got)[:5],
            sorted(got - want)[:5],
        )
    injected = problems["injected"]
    assert {x["order_key"] for x in injected["oversell"]} == expected["out_of_stock"]
    assert {x["order_key"] for x in injected["bad_address"]} <= expected["bad_address"]
    assert {x["order_key"] for x in injected["late"]} <= expected["late_risk"]
    assert {x["order_key"] for x in injected["price_error"]} <= expected["price_mismatch"]
    for kind in ("out_of_stock", "price_mismatch", "bad_address", "late_risk"):
        assert len(expected[kind]) >= 5, f"too few {kind} cases injected to prove anything"
    assert {x["variant"] for x in injected["bad_address"]} == {"unparseable", "no_district", "other_city"}


def test_oversells_name_the_order_channel_and_shortfall(built_day) -> None:
    """fct_oversell_events says which order took how much that was not there, exactly as injected; the
    stock conservation test ran in the build and passed."""
    con, problems, result = built_day
    rows = con.execute("""select order_key, store_id, sku_id, quantity, available_before, shortfall_units
                          from marts.fct_oversell_events""").fetchall()
    injected = {
        (x["order_key"], x["store_id"], x["sku_id"], x["quantity"], x["available_before"], x["shortfall"])
        for x in problems["injected"]["oversell"]
    }
    # Every reported oversell is an injected one, exactly; all were found when measured (floor, see above).
    assert set(rows) <= injected and len(rows) >= 0.9 * len(injected), (len(rows), len(injected))
    assert result.status_of("assert_stock_conservation") == ["pass"]
    oversold = con.execute("select sum(oversold_units) from marts.fct_stock_positions").fetchone()[0]
    assert oversold == sum(r[5] for r in rows)


def test_price_errors_and_cross_channel_listings(built_day) -> None:
    """Each injected price error is a mismatch whose expected paid amount is the truth's; the mis-listed
    SKUs are the only cross-channel inconsistencies, blamed on the channel that lists them wrong."""
    con, problems, _ = built_day
    checks = dict(
        con.execute("""select order_key, expected_paid_amount from marts.fct_order_price_checks
                                 where is_price_mismatch""").fetchall()
    )
    errors = problems["injected"]["price_error"]
    flagged = [e for e in errors if e["order_key"] in checks]
    assert len(flagged) >= 0.9 * len(errors), (len(flagged), len(errors))  # all flagged when measured
    for error in flagged:
        assert checks[error["order_key"]] == Decimal(str(error["expected_paid"])).quantize(Decimal("0.01")), error
    outliers = set(
        con.execute("select sku_id, channel from marts.fct_sku_channel_prices where is_price_outlier").fetchall()
    )
    assert outliers == {(x["sku_id"], x["channel"]) for x in problems["expected_price_inconsistencies"]}
    assert outliers == {(x["sku_id"], x["channel"]) for x in problems["injected"]["list_price"]}


def test_orders_progress_to_delivery(built_day) -> None:
    """Status pushes took most delivery orders to delivered; the only open ones with a broken promise are
    the late ones."""
    con, problems, _ = built_day
    ((delivery, delivered),) = con.execute("""
        select count(*), count(*) filter (where current_status = 'delivered') from marts.fct_orders
        where fulfilment_type = 'delivery' and channel <> 'groupbuy' and not is_cancelled""").fetchall()
    assert delivered > 0.9 * delivery
