"""History: the ClickHouse store's assets (the warehouse's orders and marts; the serving snapshot's copy)."""
