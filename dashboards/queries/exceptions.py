"""The exceptions page's queries: open problems from the marts and from the latest dispatch plan, counted by
type and listed newest first."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboards.queries.reader import LIST_LIMIT, TO_LOCAL, Row, SnapshotMeta, page_state, rows

EXCEPTION_TABLES = ("fct_exceptions",)

# Open problems: the marts' open exceptions, plus the dispatch plan's (the latest plan's view of its day) when
# the snapshot has them. One query text per case: the dispatch table may be absent.
_OPEN_FROM_MARTS = f"""
SELECT exception_id, exception_type, severity, order_key, channel, store_id, raised_at + {TO_LOCAL} AS raised_at_local,
       detail, action, 'orders' AS source
FROM fct_exceptions
WHERE resolved_at IS NULL
"""
_OPEN_FROM_DISPATCH = f"""
SELECT exception_id, exception_type, severity, order_key, channel, store_id, raised_at + {TO_LOCAL} AS raised_at_local,
       detail, action, 'dispatch' AS source
FROM dispatch_exceptions
WHERE business_date = (SELECT max(business_date) FROM dispatch_exceptions)
"""


def _open_exceptions_sql(with_dispatch: bool) -> str:
    return _OPEN_FROM_MARTS + (f"UNION ALL {_OPEN_FROM_DISPATCH}" if with_dispatch else "")


def open_exception_counts_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT exception_type, action,
       count(*) FILTER (WHERE severity = 'high')::BIGINT   AS high,
       count(*) FILTER (WHERE severity = 'medium')::BIGINT AS medium,
       count(*) FILTER (WHERE severity NOT IN ('high', 'medium') OR severity IS NULL)::BIGINT AS other,
       count(*)::BIGINT AS open
FROM open
GROUP BY exception_type, action
ORDER BY open DESC, exception_type, action
"""


def open_exception_list_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT * FROM open
WHERE ($exception_type IS NULL OR exception_type = $exception_type)
  AND ($store_id IS NULL OR store_id = $store_id)
ORDER BY raised_at_local DESC NULLS LAST, exception_id
LIMIT $limit
"""


def open_exception_stores_sql(with_dispatch: bool) -> str:
    return f"""
WITH open AS ({_open_exceptions_sql(with_dispatch)})
SELECT DISTINCT store_id FROM open WHERE store_id IS NOT NULL ORDER BY store_id
"""


@dataclass(frozen=True)
class ExceptionData:
    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    counts: tuple[Row, ...] = ()
    rows: tuple[Row, ...] = ()
    stores: tuple[str, ...] = ()
    includes_dispatch: bool = False


def fetch_exceptions(
    con: duckdb.DuckDBPyConnection, exception_type: str | None = None, store_id: str | None = None
) -> ExceptionData:
    present, meta, missing = page_state(con, EXCEPTION_TABLES)
    if missing:
        return ExceptionData(meta, missing)
    with_dispatch = "dispatch_exceptions" in present
    filters = {"exception_type": exception_type, "store_id": store_id, "limit": LIST_LIMIT}
    return ExceptionData(
        meta=meta,
        missing=(),
        counts=rows(con, open_exception_counts_sql(with_dispatch)),
        rows=rows(con, open_exception_list_sql(with_dispatch), filters),
        stores=tuple(r["store_id"] for r in rows(con, open_exception_stores_sql(with_dispatch))),
        includes_dispatch=with_dispatch,
    )
