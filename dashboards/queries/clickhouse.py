"""Reading the serving snapshot's copy in ClickHouse (``ORDERHUB_CLICKHOUSE_DSN`` set): the same page queries.

The pipeline copies each published snapshot into ClickHouse as one version (``history/serving.py``). Here the
current version's tables are fetched as Arrow into an in-memory DuckDB database, once per version in this
process, and every page's fetcher runs on it unchanged: one set of page queries serves both stores, so the
pages cannot show different figures from one or the other. The snapshot is small by design (every table is
bounded), so taking it whole costs one round of small queries per publish and then nothing per page, filter
or session until the next publish.

No Streamlit here: :mod:`dashboards.snapshot` caches each page's result per version, as for the file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb

from history import serving
from history.client import connect_when_free, describe_dsn

T = TypeVar("T")

# A version can be dropped between reading its pointer and its tables only when two more are published in
# between (or, on a cluster, not be whole yet on the replica read); reading again takes the newer pointer.
# More attempts than that mean something else is wrong.
_ATTEMPTS = 3


class StoreUnreadable(Exception):
    """The ClickHouse store could not be read (server down, bad DSN, engine folder busy): the page says so
    and retries on its next refresh."""


@dataclass(frozen=True)
class ClickHouseStore:
    """Where the dashboards read when a DSN is set. ``str()`` is safe to show: it leaves out any password."""

    dsn: str

    @property
    def name(self) -> str:
        return f"ClickHouse {serving.DATABASE}"

    def __str__(self) -> str:
        return describe_dsn(self.dsn, serving.DATABASE)


@dataclass
class _Loaded:
    version: int
    con: duckdb.DuckDBPyConnection


# One in-memory copy per DSN, of the newest version read; reads are serialised (as for the file), so the copy
# is never swapped while a page is reading it.
_LOCK = threading.Lock()
_LOADED: dict[str, _Loaded] = {}
# Asking for the version means starting the engine on a chdb folder (0.1-0.3 s measured, and the folder is
# the pipeline's meanwhile): every wall screen and browser tab refreshing every few seconds would add up. A
# publish takes seconds to arrive anyway.
VERSION_TTL_SECONDS = 2.0
_CHECKED: dict[str, tuple[float, int | None]] = {}


def current_version(store: ClickHouseStore) -> int | None:
    """The version readers are pointed at, or None when nothing has been published to ClickHouse yet; asked
    at most once per :data:`VERSION_TTL_SECONDS` in this process, whatever the number of sessions refreshing."""
    with _LOCK:
        checked = _CHECKED.get(store.dsn)
        if checked is not None and time.monotonic() - checked[0] < VERSION_TTL_SECONDS:
            return checked[1]
    client = _connect(store)
    try:
        publish = serving.latest_publish(client)
    except Exception as exc:
        raise StoreUnreadable(f"{store}: {exc}") from exc
    finally:
        client.close()
    version = publish.version if publish else None
    with _LOCK:
        _CHECKED[store.dsn] = (time.monotonic(), version)
    return version


def read(store: ClickHouseStore, fetch: Callable[..., T], **params: Any) -> T:
    """Run ``fetch(con, **params)`` on the current version, loaded into DuckDB (once per version)."""
    with _LOCK:
        con = _current(store)
        cursor = con.cursor()
        try:
            return fetch(cursor, **params)
        finally:
            cursor.close()


def _current(store: ClickHouseStore) -> duckdb.DuckDBPyConnection:
    loaded = _LOADED.get(store.dsn)
    checked = _CHECKED.get(store.dsn)
    if (
        loaded is not None
        and checked is not None
        and checked[1] == loaded.version
        and time.monotonic() - checked[0] < VERSION_TTL_SECONDS
    ):
        # Another page or filter on the version just checked: it is loaded, no need to start the engine.
        return loaded.con
    client = _connect(store)
    gone: serving.VersionGone | None = None
    try:
        for _ in range(_ATTEMPTS):
            publish = serving.latest_publish(client)
            if publish is None:
                raise StoreUnreadable(f"{store}: no serving copy has been published yet")
            loaded = _LOADED.get(store.dsn)
            if loaded is not None and loaded.version == publish.version:
                return loaded.con
            try:
                tables = serving.read_tables(client, publish)
            except serving.VersionGone as exc:
                gone = exc
                continue
            con = duckdb.connect(":memory:")
            serving.load_into_duckdb(con, publish, tables)
            if loaded is not None:
                loaded.con.close()
            _LOADED[store.dsn] = _Loaded(publish.version, con)
            return con
        raise StoreUnreadable(f"{store}: no whole version of the serving copy after {_ATTEMPTS} tries ({gone})")
    except StoreUnreadable:
        raise
    except Exception as exc:
        raise StoreUnreadable(f"{store}: {exc}") from exc
    finally:
        client.close()


def _connect(store: ClickHouseStore):
    try:
        return connect_when_free(store.dsn, wait_seconds=3.0)
    except Exception as exc:
        raise StoreUnreadable(f"{store}: {exc}") from exc
