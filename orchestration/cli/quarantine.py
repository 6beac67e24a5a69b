"""`orderhub quarantine …`: list quarantined records, show one's raw text, replay it (fixed or as it was)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, WAREHOUSE

quarantine_app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Quarantined records: list them, show one, replay it once fixed."
)


def _open(warehouse: Path):
    import duckdb

    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first", err=True)
        raise typer.Exit(1)
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        typer.echo(
            f"cannot open {warehouse} ({exc}): a pipeline run is writing it; try again when it is done", err=True
        )
        raise typer.Exit(1) from exc


@quarantine_app.command("list")
def list_(
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    channel: Annotated[str, typer.Option(help="sales channel (its replays included), or e.g. settlement/alipay")] = "",
    code: Annotated[str, typer.Option(help="error code, e.g. unknown_sku")] = "",
    status: Annotated[str, typer.Option(help="open, resolved, replay_failed or all")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="at most this many records")] = 50,
) -> None:
    """Quarantined records, newest first, with the reason and what became of them."""
    from rich.console import Console
    from rich.table import Table

    from data_quality.quarantine import list_records

    con = _open(warehouse)
    try:
        try:
            records = list_records(con, channel=channel or None, code=code or None, status=status, limit=limit)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--status") from exc
    finally:
        con.close()
    table = Table(title=f"Quarantined records ({status})")
    for column in ("source file", "line", "channel", "code", "status", "message"):
        table.add_column(column, overflow="fold")
    for r in records:
        message = r.message if r.status != "resolved" else f"{r.message} → resolved by {r.resolved_by}"
        table.add_row(r.source_file, str(r.source_line), r.channel, r.error_code, r.status, message)
    console = Console(width=max(Console().width, 140))
    console.print(table if records else "No quarantined records match.")
    if records and status == "open":
        console.print(
            "Fix one: `orderhub quarantine show --source-file F --line N > fixed.txt`, edit it, then "
            "`orderhub quarantine replay --source-file F --line N --raw-file fixed.txt` "
            "(or land the missing mapping, e.g. a products file, and replay without --raw-file)."
        )


@quarantine_app.command("show")
def show(
    source_file: Annotated[str, typer.Option(help="landing path of the record, as listed")],
    line: Annotated[int, typer.Option(help="its line (0: the whole file)")],
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
) -> None:
    """Print a quarantined record's raw text (to stdout, to edit) and its reason (to stderr)."""
    from data_quality.quarantine import get_record

    con = _open(warehouse)
    try:
        record = get_record(con, source_file, line)
    finally:
        con.close()
    if record is None:
        typer.echo(f"no quarantined record at {source_file} line {line}: see `orderhub quarantine list`", err=True)
        raise typer.Exit(1)
    typer.echo(f"{record.error_code} ({record.status}): {record.message}", err=True)
    typer.echo(record.raw)


@quarantine_app.command("replay")
def replay(
    source_file: Annotated[str, typer.Option(help="landing path of the quarantined record")],
    line: Annotated[int, typer.Option(help="its line (0: a file rejected whole)")],
    raw_file: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="the corrected record (default: replay the raw text as it was)"),
    ] = None,
    landing: Annotated[Path, typer.Option(help="landing folder", envvar="ORDERHUB_LANDING")] = Path("landing"),
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    run: Annotated[bool, typer.Option(help="run the pipeline now (--no-run: leave it to the landing sensor)")] = True,
) -> None:
    """Re-deliver a quarantined record (fixed, or as it was after adding the missing mapping) and load it through
    the same adapters and loader as every record: it loads once, and the original row is marked resolved."""
    from data_quality.quarantine import ReplayError, plan_replay, replay_outcome, write_replay

    con = _open(warehouse)
    try:
        plan = plan_replay(con, landing, source_file, line, raw_file.read_bytes() if raw_file else None)
    except ReplayError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        con.close()
    if plan.already == "resolved":
        con = _open(warehouse)
        try:
            typer.echo(replay_outcome(con, plan).detail)
        finally:
            con.close()
        return
    path = write_replay(landing, plan)
    where = "already waiting in" if plan.already == "pending" else "landed in"
    typer.echo(f"{plan.target} {where} {landing} (replays {plan.original_file} line {plan.original_line})")
    if not run:
        return
    from orchestration.pipeline import run_once
    from orchestration.settings import Settings

    ok = run_once(Settings.from_env(landing=landing, warehouse=warehouse))
    con = _open(warehouse)
    try:
        outcome = replay_outcome(con, plan)
    finally:
        con.close()
    typer.echo(f"{path.name if path else plan.target}: {outcome.detail}")
    if not ok:
        typer.echo("the pipeline run failed: see the Dagster log above", err=True)
        raise typer.Exit(1)
    if outcome.state == "quarantined":
        raise typer.Exit(2)
