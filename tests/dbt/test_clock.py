"""The clock, not the newest order: fct_exceptions judges late risk at var as_of. With no new order between two
builds, a later as_of finds more orders at risk; before, "now" was the newest order and the list froze when
orders stopped arriving."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dbt_harness import run_dbt


def _open_late_risk(warehouse: Path) -> set[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            row[0]
            for row in con.execute(
                "select order_key from marts.fct_exceptions where exception_type = 'late_risk' and resolved_at is null"
            ).fetchall()
        }
    finally:
        con.close()


def test_late_risk_grows_as_the_clock_advances_with_no_new_orders(warehouse_copy: Path, tmp_path: Path) -> None:
    # 03:00 UTC is the dataset's last order; app:APP2 (open, promised 04:00) is not yet inside the 15-minute
    # window then, and is at 03:50, with the same orders in the warehouse.
    at_last_order = run_dbt(
        ["run", "--select", "fct_exceptions"], warehouse_copy, tmp_path / "early", as_of="2026-11-26 03:00:00"
    )
    assert at_last_order.returncode == 0, at_last_order.stdout[-4000:]
    early = _open_late_risk(warehouse_copy)

    later = run_dbt(
        ["run", "--select", "fct_exceptions"], warehouse_copy, tmp_path / "late", as_of="2026-11-26 03:50:00"
    )
    assert later.returncode == 0, later.stdout[-4000:]
    late = _open_late_risk(warehouse_copy)

    assert early == {"miniprogram:MP1"}
    assert late == {"miniprogram:MP1", "app:APP2"}
