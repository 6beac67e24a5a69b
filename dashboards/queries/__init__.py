"""Every SQL statement the dashboards run, one module per page, and the two ways to run a page's queries.

- :mod:`~dashboards.queries.reader`: what every page shares (opening the snapshot read-only, one read at a time,
  rows as dicts, which tables the snapshot has, its ``snapshot_meta`` row and stale parts).
- one module per page under ``views/`` (``live``, ``exceptions``, ``parcels``, ``stock``, ``dispatch``,
  ``reconciliation``, ``quality``): its SQL, the dataclass the page renders, and ``fetch_<page>(con, **filters)``.

:func:`read_live` and :func:`read_page` run a page's fetcher on one short-lived read-only connection to the
snapshot file, or with ``ORDERHUB_CLICKHOUSE_DSN`` set on the snapshot's copy in ClickHouse
(:mod:`~dashboards.queries.clickhouse`); :mod:`dashboards.snapshot` caches their results per published version.
"""

from __future__ import annotations

from typing import Any

from dashboards.queries import reader
from dashboards.queries.clickhouse import ClickHouseStore, StoreUnreadable
from dashboards.queries.dispatch import fetch_dispatch
from dashboards.queries.exceptions import fetch_exceptions
from dashboards.queries.live import LiveData, fetch_live
from dashboards.queries.parcels import fetch_parcels
from dashboards.queries.quality import fetch_quality
from dashboards.queries.reader import Source
from dashboards.queries.reconciliation import fetch_recon_export, fetch_reconciliation
from dashboards.queries.stock import fetch_stock

__all__ = [
    "PAGE_FETCHERS",
    "ClickHouseStore",
    "LiveData",
    "Source",
    "StoreUnreadable",
    "fetch_live",
    "read_live",
    "read_page",
]

# The pages read with read_page, by the name the views pass. Each reports the tables it lacks (``missing``). The
# live page is read with read_live instead: it reads only tables every snapshot has, and a tile whose table is
# absent shows a dash, so it has nothing to report missing.
PAGE_FETCHERS: dict[str, Any] = {
    "stock": fetch_stock,
    "parcels": fetch_parcels,
    "exceptions": fetch_exceptions,
    "dispatch": fetch_dispatch,
    "reconciliation": fetch_reconciliation,
    "recon_export": fetch_recon_export,
    "quality": fetch_quality,
}


def read_live(source: Source) -> LiveData:
    """The live page's data from ``source`` (the snapshot file, or its ClickHouse copy)."""
    # fetch_live is looked up here at call time, so a test can stand in for it on this module.
    return reader.read(source, lambda con: fetch_live(con))


def read_page(source: Source, page: str, **params: Any) -> Any:
    """Run the page's fetcher with ``params`` on ``source`` (the snapshot file, or its ClickHouse copy)."""
    return reader.read(source, PAGE_FETCHERS[page], **params)
