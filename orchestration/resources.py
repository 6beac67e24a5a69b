"""The resources every domain shares: the paths a run works on, the warehouse as one typed resource, and the
ClickHouse store when one is configured.

Assets get DuckDB connections from `Warehouse.connect()` rather than opening the file themselves, so the
contract's DDL (raw schema, newer columns) is applied in one place, once per process and warehouse file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from history.client import connect as connect_clickhouse
from ingestion import warehouse as contract_warehouse
from orchestration.settings import Settings


class OrderhubPaths(dg.ConfigurableResource):
    """The folders and files a run reads or writes other than through a warehouse connection (the landing
    folder the loader and the sensor scan, the snapshot file the publisher replaces, the rules file)."""

    landing: str
    warehouse: str
    serving: str
    rules: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderhubPaths:
        return cls(
            landing=str(settings.landing),
            warehouse=str(settings.warehouse),
            serving=str(settings.serving),
            rules=str(settings.rules),
        )

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def serving_path(self) -> Path:
        return Path(self.serving)


# Warehouse files whose contract DDL this process has applied. A file that no longer exists gets it again.
_READY: set[Path] = set()
_READY_LOCK = threading.Lock()


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse: `with warehouse.connect() as con:` hands out a connection and closes it.

    DuckDB allows one writing process per file; the pipeline's runs are serialised by their writer tag
    (orchestration/definitions.py), so each asset opens its connection for its own step only."""

    path: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Warehouse:
        return cls(path=str(settings.warehouse))

    @property
    def file(self) -> Path:
        return Path(self.path)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        key = self.file.resolve()
        with _READY_LOCK:
            if key in _READY and key.exists():
                return duckdb.connect(str(key))
            con = contract_warehouse.connect(key)  # creates the file and applies the contract DDL
            _READY.add(key)
            return con


class ClickHouse(dg.ConfigurableResource):
    """The ClickHouse store (ORDERHUB_CLICKHOUSE_DSN: `http(s)://…` or `chdb://PATH`): `with clickhouse.connect()
    as client:` hands out a clickhouse-connect client on the `orderhub` database and closes it.

    Closed after each use: the in-process engine behind `chdb://` holds one data folder per process at a time,
    and a client left open would keep any other folder from opening in this process (history/client.py)."""

    dsn: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ClickHouse | None:
        return cls(dsn=settings.clickhouse_dsn) if settings.clickhouse_dsn else None

    @contextmanager
    def connect(self) -> Iterator:
        client = connect_clickhouse(self.dsn)
        try:
            yield client
        finally:
            client.close()
