"""The data quality page's queries: row accounting per channel and batch, the quarantine, and the validation
results and quarantine status when the snapshot carries them."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboards.queries.reader import KNOWN_CHANNELS, LIST_LIMIT, TO_LOCAL, Row, SnapshotMeta, page_state, rows

QUALITY_TABLES = ("fct_ingest_accounting", "fct_quarantine_summary")

# Every batch ever loaded, per channel (reference-data loads included: their quality matters too).
QUALITY_BY_CHANNEL = """
SELECT
    channel,
    starts_with(channel, 'reference/')                            AS is_reference,
    count(*)::BIGINT                                              AS batches,
    coalesce(sum(landed), 0)::BIGINT                              AS landed,
    coalesce(sum(loaded), 0)::BIGINT                              AS loaded,
    coalesce(sum(quarantined), 0)::BIGINT                         AS quarantined,
    coalesce(sum(duplicate), 0)::BIGINT                           AS duplicate,
    count(*) FILTER (WHERE is_balanced IS NOT TRUE)::BIGINT       AS unbalanced_batches
FROM fct_ingest_accounting
GROUP BY channel
ORDER BY starts_with(channel, 'reference/'), list_position($known_channels::VARCHAR[], channel) NULLS LAST, channel
"""

QUALITY_RECENT_BATCHES = f"""
SELECT batch_id, channel, files, landed, loaded, quarantined, duplicate, is_balanced,
       started_at + {TO_LOCAL} AS started_local,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds
FROM fct_ingest_accounting
ORDER BY started_at DESC NULLS LAST, batch_id, channel
LIMIT $limit
"""

QUALITY_QUARANTINE = f"""
SELECT error_code, channel, records, first_at + {TO_LOCAL} AS first_at_local, last_at + {TO_LOCAL} AS last_at_local
FROM fct_quarantine_summary
ORDER BY records DESC, channel, error_code
"""


# Validation results (Great Expectations suites), when the snapshot carries them (data_quality/results.py
# `serving_queries`, published by the serving step): the latest result of every expectation, and the latest
# validations (a suite on a batch, day or mart). And the quarantine's status per channel and reason (open,
# resolved by a replay, replay failed). Each is shown when its table is in the snapshot; a table missing a
# column the page reads is reported, not a crash.
DQ_SUMMARY_TABLE = "dq_results_summary"
DQ_VALIDATIONS_TABLE = "dq_validations_recent"
DQ_QUARANTINE_TABLE = "dq_quarantine_status"
DQ_COLUMNS: dict[str, tuple[str, ...]] = {
    DQ_SUMMARY_TABLE: (
        "suite",
        "scope",
        "channel",
        "expectation",
        "rule",
        "severity",
        "validations",
        "failures",
        "last_validated_at",
        "last_batch",
        "last_success",
        "last_observed_value",
        "last_unexpected_count",
    ),
    DQ_VALIDATIONS_TABLE: (
        "suite",
        "scope",
        "batch",
        "channel",
        "rows",
        "expectations",
        "failed",
        "critical_failed",
        "success",
        "validated_at",
    ),
    DQ_QUARANTINE_TABLE: (
        "channel",
        "error_code",
        "quarantined",
        "open",
        "resolved",
        "replay_failed",
        "last_quarantined_at",
    ),
}
DQ_RECENT_VALIDATIONS = 50

TABLE_COLUMNS = """
SELECT table_name, column_name
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = 'main' AND list_contains($tables::VARCHAR[], table_name)
"""

# Over every expectation's latest result: how many, how many failed, how many of those are critical.
DQ_TOTALS = f"""
SELECT count(*)::BIGINT                                                               AS expectations,
       count(DISTINCT suite)::BIGINT                                                  AS suites,
       count(*) FILTER (WHERE last_success IS NOT TRUE)::BIGINT                       AS failed,
       count(*) FILTER (WHERE last_success IS NOT TRUE AND severity = 'critical')::BIGINT AS critical_failed,
       max(last_validated_at) + {TO_LOCAL}                                             AS last_validated_local
FROM dq_results_summary
"""

# Failures first (critical before warning), then by suite.
DQ_LATEST_RESULTS = f"""
SELECT suite, scope, channel, expectation, rule, severity, validations, failures, last_batch, last_success,
       CAST(last_observed_value AS VARCHAR) AS last_observed_value, last_unexpected_count,
       last_validated_at + {TO_LOCAL} AS last_validated_local
FROM dq_results_summary
ORDER BY last_success IS TRUE, severity = 'critical' DESC, suite, scope, channel NULLS FIRST, expectation, rule
LIMIT $limit
"""

DQ_VALIDATIONS = f"""
SELECT suite, scope, batch, channel, rows, expectations, failed, critical_failed, success,
       validated_at + {TO_LOCAL} AS validated_local
FROM dq_validations_recent
ORDER BY validated_at DESC, suite, channel
LIMIT $limit
"""

DQ_QUARANTINE_STATUS = f"""
SELECT channel, error_code, quarantined, open, resolved, replay_failed,
       last_quarantined_at + {TO_LOCAL} AS last_quarantined_local
FROM dq_quarantine_status
ORDER BY open DESC, quarantined DESC, channel, error_code
"""


@dataclass(frozen=True)
class QualityData:
    """Row accounting and quarantine (``missing`` names absent tables), and the validation tables when present:
    ``dq_totals`` / ``dq_results`` (the latest result per expectation), ``dq_validations`` (recent runs),
    ``quarantine_status`` (open / resolved / replay failed). ``dq_absent`` lists the validation tables the snapshot
    does not have; ``dq_bad_columns`` the ones it has without a column the page reads (``table.column``)."""

    meta: SnapshotMeta | None
    missing: tuple[str, ...]
    by_channel: tuple[Row, ...] = ()
    recent_batches: tuple[Row, ...] = ()
    quarantine: tuple[Row, ...] = ()
    dq_absent: tuple[str, ...] = tuple(DQ_COLUMNS)
    dq_bad_columns: tuple[str, ...] = ()
    dq_totals: Row | None = None
    dq_results: tuple[Row, ...] = ()
    dq_validations: tuple[Row, ...] = ()
    quarantine_status: tuple[Row, ...] = ()


def _usable(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[set[str], tuple[str, ...], tuple[str, ...]]:
    """Which validation tables can be read: (usable, absent, missing ``table.column``)."""
    tables = [table for table in DQ_COLUMNS if table in present]
    columns: dict[str, set[str]] = {}
    for r in rows(con, TABLE_COLUMNS, {"tables": tables}):
        columns.setdefault(r["table_name"], set()).add(r["column_name"])
    bad = tuple(f"{table}.{c}" for table in tables for c in DQ_COLUMNS[table] if c not in columns.get(table, set()))
    usable = {table for table in tables if not any(b.startswith(f"{table}.") for b in bad)}
    return usable, tuple(t for t in DQ_COLUMNS if t not in present), bad


def fetch_quality(con: duckdb.DuckDBPyConnection) -> QualityData:
    present, meta, missing = page_state(con, QUALITY_TABLES)
    if missing:
        return QualityData(meta, missing)
    usable, absent, bad = _usable(con, present)
    summary = DQ_SUMMARY_TABLE in usable
    return QualityData(
        meta=meta,
        missing=(),
        by_channel=rows(con, QUALITY_BY_CHANNEL, {"known_channels": list(KNOWN_CHANNELS)}),
        recent_batches=rows(con, QUALITY_RECENT_BATCHES, {"limit": LIST_LIMIT}),
        quarantine=rows(con, QUALITY_QUARANTINE),
        dq_absent=absent,
        dq_bad_columns=bad,
        dq_totals=rows(con, DQ_TOTALS)[0] if summary else None,
        dq_results=rows(con, DQ_LATEST_RESULTS, {"limit": LIST_LIMIT}) if summary else (),
        dq_validations=(
            rows(con, DQ_VALIDATIONS, {"limit": DQ_RECENT_VALIDATIONS}) if DQ_VALIDATIONS_TABLE in usable else ()
        ),
        quarantine_status=rows(con, DQ_QUARANTINE_STATUS) if DQ_QUARANTINE_TABLE in usable else (),
    )
