"""History: the warehouse's orders and marts copied into ClickHouse after each run (history/sink.py), and the
serving snapshot's copy the dashboards read there (history/serving.py), when ORDERHUB_CLICKHOUSE_DSN is set."""
