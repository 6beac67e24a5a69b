"""Keeps the reservation ledger in step with the WMS: every stock count and movement file that lands.

A count re-bases a SKU's stock (what orders since it hold is recomputed by the ledger); a movement adds or takes
units. Both are idempotent in the ledger, so a restarted sync simply applies every file again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.contract import STOCK_MOVEMENT_SIGNS
from ingestion.gateway.catalogue import read_table, reference_files
from ingestion.stock.reservations import StockCount, StockLedger, StockMovement


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)  # the contract's timestamps are naive UTC


@dataclass
class StockSync:
    ledger: StockLedger
    landing_root: Path
    seen: set[Path] = field(default_factory=set)

    def poll(self) -> tuple[int, int]:
        """Apply the count and movement files not applied yet; returns (counts, movements) applied."""
        counts = self._new("stock_snapshots")
        movements = self._new("stock_movements")
        applied_counts = applied_movements = 0
        if counts:
            rows = read_table(counts, "stock_snapshots", self.landing_root)
            applied_counts = self.ledger.load_counts(
                StockCount(r["store_id"], r["sku_id"], int(r["on_hand"]), _utc(r["snapshot_at"]))
                for r in rows.iter_rows(named=True)
            )
        if movements:
            rows = read_table(movements, "stock_movements", self.landing_root)
            applied_movements = self.ledger.apply_movements(
                StockMovement(
                    r["movement_id"],
                    r["store_id"],
                    r["sku_id"],
                    STOCK_MOVEMENT_SIGNS[r["movement_type"]] * int(r["quantity"]),
                    _utc(r["moved_at"]),
                )
                for r in rows.iter_rows(named=True)
            )
        self.seen.update(counts)
        self.seen.update(movements)
        return applied_counts, applied_movements

    def _new(self, table: str) -> list[Path]:
        return [path for path in reference_files(self.landing_root, table) if path not in self.seen]
