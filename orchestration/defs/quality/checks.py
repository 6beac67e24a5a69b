"""Data-quality asset checks: the Great Expectations suites of data_quality/ run by Dagster, with every result
stored in the warehouse (`dq.dq_results`, `dq.dq_validations`) by the run that validates.

Every micro-batch (the pipeline job):
- `orders_batch_quality` (raw/orders): each channel's normalised orders and their lines, for every ingest
  batch not validated yet (so a batch loaded by a run killed before its checks is validated by the next run);
- `settlement_lines_batch_quality` (raw/settlement_lines): each statement channel's lines of those batches;
- `parcels_quality`, `stock_positions_quality` (the marts, whole).

Every daily build (the reconciliation job, per day or range):
- `orders_day_quality` and `settlement_lines_day_quality`: every order and statement line of the day(s),
  again: a day's finance numbers are built from the whole day, whichever batch brought it;
- `reconciliation_quality` (marts/fct_reconciliation_lines of the day(s)).

A check fails with ERROR when a *critical* expectation fails (the batch itself is broken: keys null or
duplicated, unknown channel or status codes, a whole channel's amounts not adding up, settlement and
reconciliation identities), else with WARN. An ERROR fails the run, and a WARN never does. The checks are
declared blocking, but Dagster does not gate the dbt step on the raw-table checks (dbt's own source tests on
the same raw tables are checks of that step; measured with Dagster 1.13): in a micro-batch, dbt, dispatch and
the snapshot run, a broken channel's orders are in the marts and flagged, the run fails naming the check, and
the publish job re-publishes the snapshot with `pipeline_ok` false and the failure in `run_problems`, which the
pages show. The mart checks (parcels, stock positions, reconciliation) do gate what is downstream of them.

One order whose amounts do not add up is not a broken batch: it is loaded and flagged (a WARN naming the
order, the rule and the values; its rows in `dq.dq_order_findings`; an `amounts_inconsistent` row in
marts.fct_exceptions), and every other order loads. A failing check's description names the suite, channel,
rule, the offending keys and values, so the run's failure message says what to fix.

GX is not called through dagster-ge (it does not support GX 1.x): the checks call data_quality.runner.
"""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import dagster as dg
import duckdb
import polars as pl

from data_quality import results as dq_results
from data_quality.results import Validation, read_frame
from ingestion.contract import LOCAL_TIMEZONE
from orchestration.resources import OrderhubPaths, Warehouse
from orchestration.rules import load as load_rules

ORDERS = dg.AssetKey(["raw", "orders"])
ORDER_LINES = dg.AssetKey(["raw", "order_lines"])
SETTLEMENT_LINES = dg.AssetKey(["raw", "settlement_lines"])
PARCELS = dg.AssetKey(["marts", "fct_parcels"])
STOCK_POSITIONS = dg.AssetKey(["marts", "fct_stock_positions"])
RECONCILIATION = dg.AssetKey(["marts", "fct_reconciliation_lines"])

# {lines_where}: a bound on the lines that keeps every line of the selected orders (a batch's orders: their
# lines carry the same batch, ingestion/order_versions.py), so their read skips the row groups of other batches
# instead of probing every line of history by order (90 MB from storage per batch at 2M orders).
_ORDERS_WITH_LINE_TOTALS = """
    WITH selected AS (SELECT * FROM raw.orders o WHERE {where})
    SELECT selected.*, l.lines_goods_total
    FROM selected
    LEFT JOIN (SELECT order_key, sum(original_price * quantity) AS lines_goods_total FROM raw.order_lines
               WHERE {lines_where} AND order_key IN (SELECT order_key FROM selected) GROUP BY order_key) l
        USING (order_key)
"""
_LINES_OF = (
    "SELECT l.*, o.channel FROM (SELECT * FROM raw.order_lines WHERE {lines_where}) l "
    "JOIN raw.orders o USING (order_key) WHERE {where}"
)
_LOCAL_DAY = "CAST(timezone('{tz}', {column}::TIMESTAMPTZ) AS DATE)"


def _validator(paths: OrderhubPaths):
    from data_quality.runner import validator  # GX takes seconds to import: only when a check runs
    from data_quality.suites import SuiteParams

    return validator(SuiteParams.from_rules(load_rules(paths.rules)))


def _validate_orders(
    validator, con, where: str, params: list, scope: str, batch: str, lines_where: str = "TRUE", lines_params=()
) -> list[Validation]:
    orders = read_frame(
        con, _ORDERS_WITH_LINE_TOTALS.format(where=where, lines_where=lines_where), [*params, *lines_params]
    )
    lines = read_frame(con, _LINES_OF.format(where=where, lines_where=lines_where), [*lines_params, *params])
    if orders.height == 0:
        return [Validation("orders", scope, batch, None, rows=0), Validation("order_lines", scope, batch, None, rows=0)]
    # A channel whose orders have no lines still gets its (empty) lines validation.
    by_channel = {v.channel: v for v in validator.validate_by("order_lines", lines, scope=scope, batch=batch)}
    out = []
    for validation in validator.validate_by("orders", orders, scope=scope, batch=batch):
        out.append(validation)
        out.append(
            by_channel.get(validation.channel) or Validation("order_lines", scope, batch, validation.channel, rows=0)
        )
    return out


def _validate_settlements(validator, con, where: str, params: list, scope: str, batch: str) -> list[Validation]:
    lines = read_frame(con, f"SELECT * FROM raw.settlement_lines WHERE {where}", params)
    if lines.height == 0:
        return [Validation("settlement_lines", scope, batch, None, rows=0)]
    return validator.validate_by("settlement_lines", lines, scope=scope, batch=batch)


def _result(validations: list[Validation], what: str, empty: str) -> dg.AssetCheckResult:
    validated = [v for v in validations if v.rows]
    failed = [v for v in validated if not v.success]
    critical = [v for v in failed if v.critical_failed]
    flagged = [v for v in validated if v.flagged_orders]
    if not validated:
        description = empty
    elif not failed:
        description = f"{what}: {sum(len(v.outcomes) for v in validated):,} expectations met on {sum(v.rows for v in validated):,} rows"
    else:
        # What stops the run comes first, then the orders loaded and flagged, each with its values.
        ordered = critical + [v for v in failed if v not in critical]
        description = " | ".join([v.describe() for v in ordered[:5]] + [v.describe_findings() for v in flagged[:5]])
    findings = [v.findings for v in flagged if v.findings is not None]
    sample = pl.concat(findings).sort("order_key").head(20) if findings else None
    return dg.AssetCheckResult(
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
        description=description[:4000],
        metadata={
            "validations": len(validated),
            "rows": sum(v.rows for v in validated),
            "failed_expectations": sum(len(v.failed) for v in validated),
            "critical_failures": sum(len(v.critical_failed) for v in validated),
            "flagged_orders": sum(len(v.flagged_orders) for v in validated),
            "findings": dg.MetadataValue.md(_findings_table(sample)) if sample is not None else "(none)",
            "batches": ", ".join(sorted({v.batch for v in validations}))[:500] or "(none)",
            "results": "dq.dq_results, dq.dq_order_findings",
        },
    )


def _findings_table(frame: pl.DataFrame) -> str:
    rows = ["| order | line | rule | values |", "|---|---|---|---|"]
    rows += [
        f"| {r['order_key']} | {r['line_no'] or ''} | {r['rule']} | {r['detail']} |"
        for r in frame.iter_rows(named=True)
    ]
    return "\n".join(rows)


def _store(con: duckdb.DuckDBPyConnection, validations: list[Validation], run_id: str) -> None:
    dq_results.write(con, validations, run_id)


def _days(context: dg.AssetCheckExecutionContext, con: duckdb.DuckDBPyConnection, latest_sql: str) -> tuple[str, str]:
    """The day range of the run's partition(s); without one (an ad-hoc run), the latest day in the data."""
    tags = context.run.tags
    if "dagster/asset_partition_range_start" in tags:
        return tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]
    if "dagster/partition" in tags:
        return tags["dagster/partition"], tags["dagster/partition"]
    latest = con.execute(latest_sql).fetchone()[0]
    return (str(latest), str(latest)) if latest else ("", "")


# ---------------------------------------------------------------------------------------------------
# Every micro-batch


@dg.asset_check(
    asset=ORDERS,
    additional_deps=[ORDER_LINES],
    blocking=True,
    description="Each channel's normalised orders and lines of every new ingest batch (GX suites "
    "`orders`, `order_lines`); ERROR on a critical (money) failure.",
)
def orders_batch_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        batches = dq_results.pending_batches(con, "orders")
        validations: list[Validation] = []
        if batches:
            validator = _validator(paths)
            for batch in batches:
                validations += _validate_orders(
                    validator, con, "o.batch_id = ?", [batch], "batch", batch, "batch_id = ?", [batch]
                )
        _store(con, validations, context.run.run_id)
    return _result(validations, "orders of batches " + ", ".join(batches), "no new batch to validate")


@dg.asset_check(
    asset=SETTLEMENT_LINES,
    blocking=True,
    description="Each statement channel's lines of every new ingest batch (GX suite `settlement_lines`).",
)
def settlement_lines_batch_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        batches = dq_results.pending_batches(con, "settlement_lines")
        validations: list[Validation] = []
        if batches:
            validator = _validator(paths)
            for batch in batches:
                validations += _validate_settlements(validator, con, "batch_id = ?", [batch], "batch", batch)
        _store(con, validations, context.run.run_id)
    return _result(validations, "settlement lines", "no new batch to validate")


def _mart_check(context, paths: OrderhubPaths, warehouse: Warehouse, suite: str, table: str) -> dg.AssetCheckResult:
    with warehouse.connect() as con:
        latest = con.execute(
            "SELECT batch_id FROM raw.ingest_batches ORDER BY started_at DESC, batch_id DESC LIMIT 1"
        ).fetchone()
        batch = latest[0] if latest else "(no batch)"
        frame = read_frame(con, f"SELECT * FROM marts.{table}")
        validations = [_validator(paths).validate(suite, frame, scope="table", batch=batch)] if frame.height else []
        _store(con, validations, context.run.run_id)
    return _result(validations, f"marts.{table}", f"marts.{table} is empty")


@dg.asset_check(
    asset=PARCELS, blocking=True, description="marts.fct_parcels against the parcel rules (GX suite `parcels`)."
)
def parcels_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    return _mart_check(context, paths, warehouse, "parcels", "fct_parcels")


@dg.asset_check(
    asset=STOCK_POSITIONS,
    blocking=True,
    description="marts.fct_stock_positions: counts and the stock ledger's conservation (GX suite `stock_positions`).",
)
def stock_positions_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    return _mart_check(context, paths, warehouse, "stock_positions", "fct_stock_positions")


# ---------------------------------------------------------------------------------------------------
# Every daily build (the reconciliation job)


def _day_check(context, warehouse: Warehouse, latest_sql: str, validate, what: str, empty: str) -> dg.AssetCheckResult:
    """The reconciled day(s) of one table: find them, validate them (validate(con, first, last, label) ->
    validations), store the results and turn them into the check's result."""
    with warehouse.connect() as con:
        first, last = _days(context, con, latest_sql)
        validations: list[Validation] = []
        if first:
            label = first if first == last else f"{first}..{last}"
            validations = validate(con, first, last, label)
        _store(con, validations, context.run.run_id)
    return _result(validations, f"{what} of {first}..{last}", empty)


@dg.asset_check(
    asset=ORDERS,
    additional_deps=[ORDER_LINES],
    blocking=True,
    description="Every order (and line) of the reconciled day(s), whichever batch brought it; a critical "
    "failure blocks the day's reconciliation.",
)
def orders_day_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    tz = load_rules(paths.rules).get("local_timezone", LOCAL_TIMEZONE)
    local_day = _LOCAL_DAY.format(tz=tz, column="o.created_at")
    return _day_check(
        context,
        warehouse,
        f"SELECT max({local_day}) FROM raw.orders o",
        lambda con, first, last, label: _validate_orders(
            _validator(paths), con, f"{local_day} BETWEEN ?::DATE AND ?::DATE", [first, last], "day", label
        ),
        "orders",
        "no orders for the day",
    )


@dg.asset_check(
    asset=SETTLEMENT_LINES,
    blocking=True,
    description="Every statement line of the reconciled day(s); a critical failure blocks the day's reconciliation.",
)
def settlement_lines_day_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    return _day_check(
        context,
        warehouse,
        "SELECT max(statement_date) FROM raw.settlement_lines",
        lambda con, first, last, label: _validate_settlements(
            _validator(paths), con, "statement_date BETWEEN ?::DATE AND ?::DATE", [first, last], "day", label
        ),
        "statement lines",
        "no statement lines for the day",
    )


def _validate_reconciliation(paths: OrderhubPaths, con, first, last, label) -> list[Validation]:
    frame = read_frame(
        con, "SELECT * FROM marts.fct_reconciliation_lines WHERE recon_date BETWEEN ?::DATE AND ?::DATE", [first, last]
    )
    return [_validator(paths).validate("reconciliation_lines", frame, scope="day", batch=label)] if frame.height else []


@dg.asset_check(
    asset=RECONCILIATION,
    blocking=True,
    description="marts.fct_reconciliation_lines of the reconciled day(s) (GX suite `reconciliation_lines`).",
)
def reconciliation_quality(
    context: dg.AssetCheckExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.AssetCheckResult:
    return _day_check(
        context,
        warehouse,
        "SELECT max(recon_date) FROM marts.fct_reconciliation_lines",
        lambda con, first, last, label: _validate_reconciliation(paths, con, first, last, label),
        "reconciliation",
        "no reconciliation lines for the day",
    )


MICRO_BATCH_CHECKS = (orders_batch_quality, settlement_lines_batch_quality)
# Whole marts: on the checks schedule and after the nightly rebuild, not every micro-batch.
MART_CHECKS = (parcels_quality, stock_positions_quality)
DAILY_CHECKS = (orders_day_quality, settlement_lines_day_quality, reconciliation_quality)
QUALITY_CHECKS = (*MICRO_BATCH_CHECKS, *MART_CHECKS, *DAILY_CHECKS)
