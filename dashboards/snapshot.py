"""Locate the serving snapshot and load its data, cached per published version.

A published snapshot never changes in place: the pipeline writes a new file and ``os.replace``s it over the
old one. So the file's identity (modification time, plus inode and size, which change with every
``os.replace`` even when two publishes land within one tick of a coarse file-system clock) is a complete
cache key: a newly published snapshot is read on the next page run, an unchanged one is never re-queried.
The ClickHouse copy (``ORDERHUB_CLICKHOUSE_DSN``) numbers its publishes, and a version never changes either:
its number is the key.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import queries
from dashboards.queries import clickhouse
from dashboards.queries.clickhouse import ClickHouseStore

SnapshotVersion = tuple[int, ...]

# Old versions fall out as new ones are published; a few entries cover several snapshot paths.
_CACHE_ENTRIES = 16


def snapshot_version(source: queries.Source) -> SnapshotVersion | None:
    """The published file's identity ``(mtime_ns, inode, size)``, or the ClickHouse copy's ``(version,)``; None
    when nothing has been published yet. Raises StoreUnreadable when ClickHouse cannot be asked."""
    if isinstance(source, ClickHouseStore):
        version = clickhouse.current_version(source)
        return None if version is None else (version,)
    path = source
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_ino, stat.st_size)


def load_live(source: queries.Source) -> queries.LiveData | None:
    """The live page's data from ``source``; None when it has not been published yet.

    Raises ``duckdb.Error`` when the file exists but cannot be read as a serving snapshot, StoreUnreadable
    when the ClickHouse copy cannot be read.
    """
    version = snapshot_version(source)
    if version is None:
        return None
    return _load_live_cached(*_key(source), version)


# ``version`` is not used in the body: it is part of the cache key. (Parameters whose names start with an
# underscore are left out of Streamlit's cache key, so it must not get one.)
@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _load_live_cached(kind: str, where: str, version: SnapshotVersion) -> queries.LiveData:
    return queries.read_live(_source(kind, where))


def load_page(source: queries.Source, page: str, **params: object) -> object | None:
    """A page's data (``queries.PAGE_FETCHERS[page]`` with ``params``) from ``source``, cached per published
    version and parameters; None when nothing has been published yet.

    Raises ``duckdb.Error`` when the file exists but cannot be read as a serving snapshot, StoreUnreadable
    when the ClickHouse copy cannot be read.
    """
    version = snapshot_version(source)
    if version is None:
        return None
    return _load_page_cached(*_key(source), version, page, tuple(sorted(params.items())))


@st.cache_data(max_entries=4 * _CACHE_ENTRIES, show_spinner=False)
def _load_page_cached(kind: str, where: str, version: SnapshotVersion, page: str, params: tuple) -> object:
    return queries.read_page(_source(kind, where), page, **dict(params))


# The cached loaders take plain strings (what Streamlit hashes for its key), not the source objects.
def _key(source: queries.Source) -> tuple[str, str]:
    return ("clickhouse", source.dsn) if isinstance(source, ClickHouseStore) else ("file", str(source))


def _source(kind: str, where: str) -> queries.Source:
    return ClickHouseStore(where) if kind == "clickhouse" else Path(where)
