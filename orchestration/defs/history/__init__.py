"""History: the warehouse's orders and marts copied into ClickHouse after each run (history/sink.py), when
ORDERHUB_CLICKHOUSE_DSN is set."""
