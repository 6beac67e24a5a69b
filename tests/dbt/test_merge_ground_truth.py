"""Merging against the simulator's ground truth on a 20,000-order day: pair precision and recall of the
merge groups at the levels measured on the independent simulator, every merged group is explained, and every
order that could have merged but did not says why."""

from __future__ import annotations

import datetime as dt
from itertools import combinations

import duckdb
import pytest
from dbt_harness import run_dbt

from ingestion import warehouse
from ingestion.loader import run_batch
from simulator import load_truth, simulate_day

pytestmark = pytest.mark.slow
DAY = dt.date(2026, 11, 26)


def pairs(groups) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for group in groups for p in combinations(group, 2)}


@pytest.fixture(scope="module")
def merged_day(tmp_path_factory):
    root = tmp_path_factory.mktemp("merge_truth")
    simulate_day(DAY, orders=20_000, seed=17, out=root / "landing")
    con = warehouse.connect(root / "wh.duckdb")
    run_batch(con, root / "landing")
    con.close()
    # cautious: tests of downstream models (parcels) need parents this build does not select.
    result = run_dbt(
        ["build", "--select", "+int_merging__merge_decisions", "--indirect-selection", "cautious"],
        root / "wh.duckdb",
        root,
    )
    assert result.returncode == 0, result.stdout[-5000:]
    con = duckdb.connect(str(root / "wh.duckdb"), read_only=True)
    yield con, load_truth(root / "landing", DAY)
    con.close()


# Measured on the independent simulator (shared doors, per-app spellings, POI addresses). Before the canonical
# door key: precision 0.977, recall 0.572 (the same door written two ways got two keys). With it (seed 17):
# precision 1.000, recall 0.992; the 8 pairs still missed share an address key but were given two customer ids
# (identity, not address). Floors with a margin for simulator changes, not goals.
MIN_PRECISION, MIN_RECALL = 0.99, 0.97


def test_merge_precision_and_recall_at_measured_levels(merged_day):
    """Order pairs that share a group in int_merging__merge_groups vs pairs the simulator put in one parcel."""
    con, truth = merged_day
    found_groups = [
        row[0]
        for row in con.execute(
            "select list(order_key) from intermediate.int_merging__merge_groups group by merge_group_id having count(*) > 1"
        ).fetchall()
    ]
    expected, found = pairs(truth["merge_groups"]), pairs(found_groups)
    assert len(expected) > 500, "the simulated day has too few merge groups to measure anything"
    true_positives = len(expected & found)
    precision, recall = true_positives / len(found), true_positives / len(expected)
    print(
        f"\nmerge pairs: precision {precision:.4f}, recall {recall:.4f} ({len(expected)} expected, {len(found)} found)"
    )
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL, (
        f"precision {precision:.4f}, recall {recall:.4f}; missed {sorted(expected - found)[:5]}, "
        f"extra {sorted(found - expected)[:5]}"
    )


def test_every_merge_is_explained_and_every_miss_has_a_reason(merged_day):
    """Each group of two or more carries a merge reason; each order that could have merged has a decision
    and a reason; cross-channel groups exist (the point of the platform)."""
    con, _ = merged_day
    unexplained = con.execute(
        "select count(*) from intermediate.int_merging__merge_groups where group_size > 1 and merge_reason is null"
    ).fetchone()[0]
    assert unexplained == 0
    decisions = dict(
        con.execute("select decision, count(*) from intermediate.int_merging__merge_decisions group by 1").fetchall()
    )
    assert decisions.get("merged", 0) > 0 and decisions.get("outside_window", 0) > 0
    assert (
        con.execute("select count(*) from intermediate.int_merging__merge_decisions where reason is null").fetchone()[0]
        == 0
    )
    cross_channel = con.execute(
        "select count(*) from (select merge_group_id from intermediate.int_merging__merge_groups "
        "group by 1 having count(distinct split_part(order_key, ':', 1)) > 1)"
    ).fetchone()[0]
    assert cross_channel > 0
