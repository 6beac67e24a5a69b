"""The resources every domain shares: the paths a run works on, the warehouse as one typed resource, and the
ClickHouse store when one is configured.

Assets get DuckDB connections from `Warehouse.connect()` rather than opening the file themselves, so the
contract's DDL (raw schema, newer columns) is applied in one place, once per process and warehouse file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from history.client import connect_when_free
from ingestion import warehouse as contract_warehouse
from orchestration import compaction
from orchestration.defs.transform.cadence import is_micro_batch
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
    # How often micro-batches merge small row groups (orchestration/compaction.py); 0: every micro-batch.
    compact_every_seconds: int = 600
    # DuckDB's memory_limit on each connection (ingestion/warehouse.py says why).
    memory_limit: str = contract_warehouse.DEFAULT_MEMORY_LIMIT
    _micro_batch: bool = PrivateAttr(default=False)
    # Decided on the run's first connection, kept for the others.
    _defer_compaction: bool | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> Warehouse:
        return cls(
            path=str(settings.warehouse),
            compact_every_seconds=settings.compact_every_seconds,
            memory_limit=settings.duckdb_memory_limit,
        )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.dagster_run
        self._micro_batch = run is not None and is_micro_batch(run.tags)
        self._defer_compaction = None

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
                con = duckdb.connect(str(key))
            else:
                con = contract_warehouse.connect(key)  # creates the file and applies the contract DDL
                _READY.add(key)
        if self._defer_compaction is None:
            self._defer_compaction = compaction.defer_this_run(
                con,
                micro_batch=self._micro_batch,
                every=timedelta(seconds=self.compact_every_seconds),
                now=datetime.now(UTC).replace(tzinfo=None),
            )
        contract_warehouse.defer_compaction(con, self._defer_compaction)
        con.execute(f"SET memory_limit = '{contract_warehouse.checked_memory_limit(self.memory_limit)}'")
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
        # Waits while the dashboards' process holds a chdb folder (they read it between runs).
        client = connect_when_free(self.dsn)
        try:
            yield client
        finally:
            client.close()
