"""Locate the serving snapshot and load its data, cached per published version of the file.

A published snapshot never changes in place: the pipeline writes a new file and ``os.replace``s it over the
old one. So the file's identity (modification time, plus inode and size, which change with every
``os.replace`` even when two publishes land within one tick of a coarse file-system clock) is a complete
cache key: a newly published snapshot is read on the next page run, an unchanged one is never re-queried.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import queries

SnapshotVersion = tuple[int, int, int]

# Old versions fall out as new ones are published; a few entries cover several snapshot paths.
_CACHE_ENTRIES = 16


def snapshot_version(path: Path) -> SnapshotVersion | None:
    """The published file's identity ``(mtime_ns, inode, size)``, or None when no snapshot exists yet."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_ino, stat.st_size)


def load_live(path: Path) -> queries.LiveData | None:
    """The live page's data from the snapshot at ``path``; None when it has not been published yet.

    Raises ``duckdb.Error`` when the file exists but cannot be read as a serving snapshot.
    """
    version = snapshot_version(path)
    if version is None:
        return None
    return _load_live_cached(str(path), version)


# ``version`` is not used in the body: it is part of the cache key. (Parameters whose names start with an
# underscore are left out of Streamlit's cache key, so it must not get one.)
@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _load_live_cached(path: str, version: SnapshotVersion) -> queries.LiveData:
    return queries.read_live(Path(path))


def load_page(path: Path, page: str, **params: object) -> object | None:
    """A page's data (``queries.PAGE_FETCHERS[page]`` with ``params``) from the snapshot at ``path``, cached
    per published version and parameters; None when no snapshot has been published yet.

    Raises ``duckdb.Error`` when the file exists but cannot be read as a serving snapshot.
    """
    version = snapshot_version(path)
    if version is None:
        return None
    return _load_page_cached(str(path), version, page, tuple(sorted(params.items())))


@st.cache_data(max_entries=4 * _CACHE_ENTRIES, show_spinner=False)
def _load_page_cached(path: str, version: SnapshotVersion, page: str, params: tuple) -> object:
    return queries.read_page(Path(path), page, **dict(params))
