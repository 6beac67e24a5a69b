"""The ClickHouse history store: the warehouse's orders and marts kept in ClickHouse for long-range queries.

No Dagster here: `orchestration` wires it in when ORDERHUB_CLICKHOUSE_DSN is set.
"""
