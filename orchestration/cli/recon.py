"""`orderhub recon …`: run the daily settlement reconciliation for a day or a range, and write the workbook
finance reviews."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, WAREHOUSE
from orchestration.settings import Settings

recon_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Settlement reconciliation: run it for a day, write the finance workbook.",
)


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-26", param_hint=option) from exc


def run_days(first: dt.date, last: dt.date, settings: Settings | None = None) -> bool:
    """Execute the reconciliation job in this process for the daily partitions first..last (one run; a
    range is a single-run backfill). Settings default to the environment's. With a Dagster home in them the
    run is recorded in that instance, as `orderhub run` does."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.reconciliation.assets import RECON_JOB, RECON_PARTITIONS
    from orchestration.instance import instance_for
    from orchestration.pipeline import QUIET_LOGS

    settings = settings or Settings.from_env()

    keys = RECON_PARTITIONS.get_partition_keys()
    for day in (first, last):
        if day.isoformat() not in keys:
            raise typer.BadParameter(
                f"{day} is not a reconciliation day: days run from {keys[0]} to {keys[-1]} "
                "(a day can be reconciled once it is over, in Asia/Shanghai)",
                param_hint="--date/--to",
            )
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --date {first}", param_hint="--to")
    job = build_definitions(settings).resolve_job_def(RECON_JOB)
    instance = instance_for(settings)
    if first == last:
        result = job.execute_in_process(
            partition_key=first.isoformat(), instance=instance, run_config=QUIET_LOGS, raise_on_error=False
        )
    else:
        tags = {
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        }
        result = job.execute_in_process(tags=tags, instance=instance, run_config=QUIET_LOGS, raise_on_error=False)
    return result.success


@recon_app.command("run")
def run(
    date: Annotated[str, typer.Option(help="first day to reconcile, YYYY-MM-DD")],
    to: Annotated[str, typer.Option(help="last day of a range (a backfill in one run); default: --date")] = "",
    landing: Annotated[
        Path, typer.Option(help="landing folder: new files are loaded first", envvar="ORDERHUB_LANDING")
    ] = Path("landing"),
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
) -> None:
    """Load new landing files and rebuild the reconciliation of a day (or each day of a range) through Dagster."""
    first = _day(date, "--date")
    last = _day(to, "--to") if to else first
    if not run_days(first, last, Settings.from_env(landing=landing, warehouse=warehouse)):
        typer.echo("reconciliation run failed: see the Dagster log above", err=True)
        raise typer.Exit(1)
    _print_days(warehouse, first, last)


def _print_days(warehouse: Path, first: dt.date, last: dt.date) -> None:
    import duckdb
    from rich.console import Console
    from rich.table import Table

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select recon_date, settlement_channel, day_status, statement_lines, matched, timing_differences, awaiting, "
            "variances, variance_abs_amount from marts.fct_reconciliation_daily "
            "where recon_date between ? and ? order by recon_date, settlement_channel",
            [first, last],
        ).fetchall()
    finally:
        con.close()
    table = Table(title=f"Reconciliation {first}" + (f" .. {last}" if last != first else ""))
    for column in ("day", "channel", "status", "lines", "matched", "timing", "awaiting", "variances", "variance ¥"):
        table.add_column(column, justify="left" if column in ("day", "channel", "status") else "right")
    for day, channel, status, lines, matched, timing, awaiting, variances, amount in rows:
        table.add_row(
            str(day),
            channel,
            status,
            *(f"{v:,}" for v in (lines, matched, timing, awaiting, variances)),
            f"{amount:,.2f}",
        )
    Console(width=max(Console().width, 110)).print(table)


@recon_app.command("report")
def report(
    date: Annotated[str, typer.Option(help="recon day, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="workbook to write (.xlsx)")],
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
) -> None:
    """Write the day's reconciliation as an Excel workbook: a summary sheet and one sheet per channel."""
    from orchestration.defs.reconciliation.report import ReportError, write_report

    day = _day(date, "--date")
    if out.suffix.lower() != ".xlsx":
        raise typer.BadParameter(f"{out} does not end in .xlsx", param_hint="--out")
    try:
        summary = write_report(warehouse, day, out)
    except ReportError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"wrote {summary.path}: {summary.lines:,} items for {day}, {summary.variances:,} variances "
        f"(¥{summary.variance_abs_amount:,.2f} to look at)"
    )
