"""Where validation results live: `dq.dq_results` (one row per expectation per validation) and
`dq.dq_validations` (one row per suite run on one batch, day or mart) and `dq.dq_order_findings` (one row per
order, and line, that breaks a per-order money rule, with the values: the order is loaded and flagged), in the
warehouse, written by the run that validates, in one transaction; and the summaries the serving snapshot
publishes for the dashboard.

`batch` names what was validated: an ingest batch id (scope `batch`), a business or statement day
`YYYY-MM-DD` (scope `day`), or, for a mart (scope `table`), the latest ingest batch the mart was built on.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

SCHEMA = "dq"

RESULTS: dict[str, pl.DataType] = {
    "run_id": pl.String,
    "validated_at": pl.Datetime("us"),  # naive UTC
    "suite": pl.String,
    "scope": pl.String,  # batch | day | table
    "batch": pl.String,
    "channel": pl.String,  # the sales or statement channel a per-channel validation covered; NULL for marts
    "expectation": pl.String,  # expectation type and its columns, e.g. expect_column_values_to_be_between(amount_gap)
    "rule": pl.String,  # the rule in words
    "severity": pl.String,  # critical (blocks finance) | warning
    "success": pl.Boolean,
    "observed_value": pl.String,
    "element_count": pl.Int64,
    "unexpected_count": pl.Int64,
    "unexpected_percent": pl.Float64,
    "unexpected_sample": pl.String,  # up to five offending values, JSON
}

VALIDATIONS: dict[str, pl.DataType] = {
    "run_id": pl.String,
    "validated_at": pl.Datetime("us"),
    "suite": pl.String,
    "scope": pl.String,
    "batch": pl.String,
    "channel": pl.String,
    "rows": pl.Int64,
    "expectations": pl.Int64,
    "failed": pl.Int64,
    "critical_failed": pl.Int64,
    "success": pl.Boolean,
    "seconds": pl.Float64,
}

FINDINGS: dict[str, pl.DataType] = {
    "run_id": pl.String,
    "validated_at": pl.Datetime("us"),
    "suite": pl.String,
    "scope": pl.String,
    "batch": pl.String,
    "channel": pl.String,
    "order_key": pl.String,
    "line_no": pl.Int64,  # NULL for an order-level rule
    "rule_id": pl.String,  # stable id, e.g. amount_identity, lines_sum_to_goods, paid_amount_not_negative
    "rule": pl.String,
    "detail": pl.String,  # the values that break it, in words
}

_DUCK = {pl.String: "VARCHAR", pl.Boolean: "BOOLEAN", pl.Int64: "BIGINT", pl.Float64: "DOUBLE"}


def _ddl(name: str, columns: dict[str, pl.DataType]) -> str:
    cols = ", ".join(f'"{c}" {"TIMESTAMP" if isinstance(t, pl.Datetime) else _DUCK[t]}' for c, t in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{name} ({cols})"


def read_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pl.DataFrame:
    """A query's result as a polars frame, on a connection that may have just run other statements."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Arrow output on a DB-API result makes an extra copy"
        return pl.from_arrow(con.execute(sql, params or []).to_arrow_table())  # type: ignore[return-value]


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    con.execute(_ddl("dq_results", RESULTS))
    con.execute(_ddl("dq_validations", VALIDATIONS))
    con.execute(_ddl("dq_order_findings", FINDINGS))


@dataclass(frozen=True)
class Outcome:
    """One expectation's result."""

    expectation: str
    rule: str
    severity: str
    success: bool
    observed_value: str
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_sample: str | None = None


@dataclass
class Validation:
    """One suite run over one frame (a channel's batch, a day, a mart)."""

    suite: str
    scope: str
    batch: str
    channel: str | None
    rows: int
    outcomes: list[Outcome] = field(default_factory=list)
    # Per-order money findings (data_quality.expectations.FINDING_COLUMNS); None for suites without per-order rules.
    findings: pl.DataFrame | None = None
    seconds: float = 0.0
    validated_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failed(self) -> list[Outcome]:
        return [o for o in self.failed if o.severity == "critical"]

    @property
    def success(self) -> bool:
        return not self.failed

    @property
    def flagged_orders(self) -> list[str]:
        """Orders that break a per-order money rule (loaded and flagged), in key order."""
        if self.findings is None or self.findings.height == 0:
            return []
        return sorted(set(self.findings["order_key"].drop_nulls().to_list()))

    def where(self) -> str:
        return f"{self.suite} {self.scope} {self.batch}" + (f" [{self.channel}]" if self.channel else "")

    def describe(self) -> str:
        if self.success:
            return f"{self.where()}: {len(self.outcomes)} expectations met on {self.rows:,} rows"
        # Critical failures first: they are what stops a run, and the message must name them.
        ranked = sorted(self.failed, key=lambda o: o.severity != "critical")
        failures = "; ".join(
            f"{o.severity} {o.rule} ({o.observed_value}"
            + (f"; e.g. {o.unexpected_sample}" if o.unexpected_sample else "")
            + ")"
            for o in ranked[:5]
        )
        return f"{self.where()}: {len(self.failed)} of {len(self.outcomes)} expectations failed on {self.rows:,} rows: {failures}"

    def describe_findings(self, limit: int = 5) -> str:
        """The flagged orders with the rule and the values, e.g. `meituan:1 paid 30.00 ≠ goods … (gap 2.00)`."""
        if self.findings is None or self.findings.height == 0:
            return ""
        rows = self.findings.sort("order_key", "line_no", "rule_id", nulls_last=False).head(limit).iter_rows(named=True)
        shown = "; ".join(f"{r['order_key']}: {r['detail']}" for r in rows)
        more = self.findings.height - min(limit, self.findings.height)
        return f"{self.where()}: {len(self.flagged_orders)} order(s) loaded and flagged: {shown}" + (
            f"; and {more} more in dq.dq_order_findings" if more else ""
        )


def write(con: duckdb.DuckDBPyConnection, validations: Iterable[Validation], run_id: str) -> int:
    """Store validations and their outcomes in one transaction; returns the number of result rows."""
    validations = list(validations)
    results = [
        {
            "run_id": run_id,
            "validated_at": v.validated_at,
            "suite": v.suite,
            "scope": v.scope,
            "batch": v.batch,
            "channel": v.channel,
            **asdict(o),
        }
        for v in validations
        for o in v.outcomes
    ]
    summary = [
        {
            "run_id": run_id,
            "validated_at": v.validated_at,
            "suite": v.suite,
            "scope": v.scope,
            "batch": v.batch,
            "channel": v.channel,
            "rows": v.rows,
            "expectations": len(v.outcomes),
            "failed": len(v.failed),
            "critical_failed": len(v.critical_failed),
            "success": v.success,
            "seconds": round(v.seconds, 3),
        }
        for v in validations
    ]
    findings = [
        {
            "run_id": run_id,
            "validated_at": v.validated_at,
            "suite": v.suite,
            "scope": v.scope,
            "batch": v.batch,
            "channel": v.channel,
            **row,
        }
        for v in validations
        if v.findings is not None
        for row in v.findings.iter_rows(named=True)
    ]
    ensure_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        for table, rows, schema in (
            ("dq_results", results, RESULTS),
            ("dq_validations", summary, VALIDATIONS),
            ("dq_order_findings", findings, FINDINGS),
        ):
            if rows:
                con.register("_dq_rows", pl.DataFrame(rows, schema=schema).to_arrow())
                try:
                    con.execute(f"INSERT INTO {SCHEMA}.{table} BY NAME SELECT * FROM _dq_rows")
                finally:
                    con.unregister("_dq_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(results)


def pending_batches(con: duckdb.DuckDBPyConnection, suite: str) -> list[str]:
    """Ingest batches no validation of `suite` has covered yet, oldest first. A run killed after its load
    committed but before its checks ran leaves its batch here, so the next run validates it."""
    ensure_schema(con)
    return [
        row[0]
        for row in con.execute(
            f"""
        SELECT batch_id FROM raw.ingest_batches
        WHERE batch_id NOT IN (SELECT batch FROM {SCHEMA}.dq_validations WHERE scope = 'batch' AND suite = ?)
        GROUP BY batch_id ORDER BY min(started_at), batch_id
        """,
            [suite],
        ).fetchall()
    ]


# ---------------------------------------------------------------------------------------------------
# Summaries for the serving snapshot (db = the attached warehouse's alias)

RECENT_VALIDATIONS = 500


def serving_queries(db: str) -> dict[str, str]:
    """Snapshot tables for the dashboard's data-quality page, as SQL over the attached warehouse `db`.

    - dq_results_summary: per suite, scope, channel and expectation, the latest result and how often it failed.
    - dq_validations_recent: the latest validations (a suite on a batch, day or mart) with their failure counts.
    """
    return {
        "dq_results_summary": f"""
            WITH ranked AS (
                SELECT *,
                       row_number() OVER w_latest AS latest_rank,
                       count(*) OVER w_all AS validations,
                       sum(CASE WHEN success THEN 0 ELSE 1 END) OVER w_all AS failures,
                       max(CASE WHEN success THEN NULL ELSE validated_at END) OVER w_all AS last_failed_at
                FROM {db}.{SCHEMA}.dq_results
                WINDOW w_all AS (PARTITION BY suite, scope, channel, expectation, rule),
                       w_latest AS (PARTITION BY suite, scope, channel, expectation, rule
                                    ORDER BY validated_at DESC, batch DESC)
            )
            SELECT suite, scope, channel, expectation, rule, severity,
                   validations::BIGINT AS validations, failures::BIGINT AS failures, last_failed_at,
                   validated_at AS last_validated_at, batch AS last_batch, success AS last_success,
                   observed_value AS last_observed_value, unexpected_count AS last_unexpected_count,
                   element_count AS last_element_count, unexpected_sample AS last_unexpected_sample
            FROM ranked WHERE latest_rank = 1
        """,
        "dq_validations_recent": f"""
            SELECT suite, scope, batch, channel, rows, expectations, failed, critical_failed, success, seconds,
                   validated_at, run_id
            FROM {db}.{SCHEMA}.dq_validations
            ORDER BY validated_at DESC, suite, channel
            LIMIT {RECENT_VALIDATIONS}
        """,
    }
