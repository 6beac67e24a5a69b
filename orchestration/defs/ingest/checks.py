"""The raw load's history keys, checked on the checks schedule rather than in every micro-batch.

`order_versions`, `order_history` and `order_line_history` declare no primary key (ingestion/contract.py says
why), so a loader bug that wrote a version twice would go unseen without this check. A duplicate shares its
order with the batch row that made it, so checking the orders of every batch once checks the whole tables:
the check reads the batches no run of it has passed yet (`raw.history_keys_checked`; at most
`MOST_BATCHES_PER_RUN`, oldest first), and records them when it passes. A failing check leaves them
unrecorded, so it keeps failing until the rows are mended.

It ran inside the raw load until 2026-12-06. Finding those orders' rows reads the key columns of the three
tables whole (no order lies in a row group of its own): 850 MB from storage and 0.5 s warm per 1,000-order batch
at 2M orders, the largest read of the load, growing with history (docs/decisions.md, "The history keys
checked hourly").
"""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import dagster as dg

from ingestion import order_versions
from orchestration.resources import Warehouse

ORDER_HISTORY = dg.AssetKey(["raw", "order_history"])
# The most batches one run checks, oldest first. An hour of micro-batches is far fewer. After a replay of history
# (thousands of batches loaded with no checks job between them) the check catches up over several runs instead
# of grouping whole tables in one.
MOST_BATCHES_PER_RUN = 500


@dg.asset_check(
    asset=ORDER_HISTORY,
    name="history_keys_unique",
    description="one row per key in order_versions, order_history and order_line_history for the orders of every "
    "batch loaded since this check last passed (the keys are not declared in the warehouse)",
)
def history_keys_unique(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        batches = order_versions.unchecked_history_batches(con, limit=MOST_BATCHES_PER_RUN)
        duplicated = order_versions.history_key_duplicates(con, batches)
        if not duplicated:
            order_versions.record_history_checked(con, batches)
        left = len(order_versions.unchecked_history_batches(con))
    return dg.AssetCheckResult(
        passed=not duplicated,
        metadata={
            "duplicated_keys": sum(duplicated.values()),
            "batches_checked": len(batches),
            "batches_left": left,
        },
        description=f"keys with more than one row: {duplicated}" if duplicated else "one row per key",
    )


SCHEDULED_RAW_CHECKS = (history_keys_unique,)
