"""Live stock in Redis: reservations at the moment of sale, live counters, and the feed back to the channels.

- `reservations`: `StockLedger` (counts, goods movements, all-or-nothing reservations in one Lua script).
- `counters`: `LiveCounters`, per-minute counts per channel for the big screen.
- `feed`: `AllocationRules` (fct_channel_stock_feed's rule) and `StockFeedPublisher` (outbox → channels);
  `platform_requests`: each channel's stock-update request. `keys`: the Redis key names.
"""

from ingestion.stock.counters import LiveCounters
from ingestion.stock.feed import AllocationRules, Published, StockFeedPublisher
from ingestion.stock.reservations import (
    OrderDemand,
    Reservation,
    Short,
    StockCount,
    StockLedger,
    StockMovement,
)

__all__ = [
    "AllocationRules",
    "LiveCounters",
    "OrderDemand",
    "Published",
    "Reservation",
    "Short",
    "StockCount",
    "StockFeedPublisher",
    "StockLedger",
    "StockMovement",
]
