"""`orderhub dq …`: the row accounting of a day (or batch) per channel, with the identity checked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, WAREHOUSE

dq_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Data quality: row accounting per channel, quarantine reasons, validation results.",
)


@dq_app.command("report")
def report(
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    date: Annotated[str, typer.Option(help="business day YYYY-MM-DD: the batches that loaded its files")] = "",
    batch: Annotated[str, typer.Option(help="one ingest batch id instead of a day")] = "",
    truth: Annotated[
        Path | None, typer.Option(help="landing folder of a simulated day: compare with its ground truth")
    ] = None,
) -> None:
    """Per channel: records landed, loaded, quarantined by reason, duplicates; and whether
    landed = loaded + quarantined + duplicate holds, as recorded and against the rows in the warehouse.
    Exits 1 when it does not."""
    import duckdb
    from rich.console import Console
    from rich.table import Table

    from data_quality import accounting

    if date:
        try:
            dt.date.fromisoformat(date)
        except ValueError as exc:
            raise typer.BadParameter(f"{date!r} is not a date like 2026-11-26", param_hint="--date") from exc
    if truth is not None and not date:
        raise typer.BadParameter("comparing with ground truth needs the day", param_hint="--date")
    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first", err=True)
        raise typer.Exit(1)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        result = accounting.collect(con, date=date or None, batch=batch or None)
        validations = _latest_validations(con)
    finally:
        con.close()
    expected = _truth(truth, date) if truth is not None else {}

    console = Console(width=max(Console().width, 120))
    scope = f"day {date}" if date else f"batch {batch}" if batch else "all batches"
    if not result.batches:
        console.print(f"No ingest batch loaded {scope}.")
        raise typer.Exit(1)
    table = Table(
        title=f"Row accounting, {scope} ({len(result.batches)} batch{'es' if len(result.batches) != 1 else ''})"
    )
    columns = ["channel", "files", "landed", "loaded", "quarantined", "duplicate", "identity", "warehouse rows"]
    if expected:
        columns.append("ground truth")
    for column in columns:
        table.add_column(
            column,
            justify="left" if column in ("channel", "identity", "warehouse rows", "ground truth") else "right",
            no_wrap=column == "channel",
        )
    for c in result.channels:
        mismatches = c.mismatches
        row = [
            c.label,
            f"{c.files:,}",
            f"{c.landed:,}",
            f"{c.loaded:,}",
            f"{c.quarantined:,}",
            f"{c.duplicate:,}",
            "[green]holds[/]" if c.balanced else f"[red]BROKEN in {c.unbalanced_batches} batch rows[/]",
            "[green]agree[/]" if not mismatches else "[red]" + "; ".join(mismatches) + "[/]",
        ]
        if expected:
            want = expected.get(c.label)
            got = {"landed": c.landed, "loaded": c.loaded, "quarantined": c.quarantined, "duplicate": c.duplicate}
            row.append("—" if want is None else "[green]matches[/]" if want == got else f"[red]expected {want}[/]")
        table.add_row(*row)
    console.print(table)

    reasons = Table(title="Quarantined, by reason")
    for column in ("channel", "reason", "records", "open", "resolved by replay", "failed replays"):
        reasons.add_column(column, justify="left" if column in ("channel", "reason") else "right")
    for r in result.reasons:
        reasons.add_row(
            r.label, r.error_code, f"{r.quarantined:,}", f"{r.open:,}", f"{r.resolved:,}", f"{r.replay_failed:,}"
        )
    console.print(reasons if result.reasons else "Nothing was quarantined.")

    totals = result.totals()
    console.print(
        f"Orders (all sales channels and replays): {totals['landed']:,} landed = {totals['loaded']:,} loaded + "
        f"{totals['quarantined']:,} quarantined + {totals['duplicate']:,} duplicates"
    )
    if result.other_days:
        console.print(
            f"[yellow]These batches also loaded files of {', '.join(result.other_days)}: their counts are included.[/]"
        )
    if validations:
        console.print(validations)
    if result.identity_holds:
        console.print(
            "[green]Accounting identity landed = loaded + quarantined + duplicate holds for every channel, "
            "and agrees with the rows in the warehouse.[/]"
        )
    else:
        console.print(
            "[red]Accounting identity BROKEN: records were lost or invented; investigate before trusting the marts.[/]"
        )
        raise typer.Exit(1)


def _latest_validations(con) -> str | None:
    """One line on the latest Great Expectations validations, when the warehouse has any."""
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'dq' AND table_name = 'dq_validations'"
    ).fetchone()[0]
    if not present:
        return None
    row = con.execute("""
        WITH latest AS (SELECT * FROM dq.dq_validations
                        QUALIFY row_number() OVER (PARTITION BY suite, scope, channel ORDER BY validated_at DESC) = 1)
        SELECT count(*), coalesce(sum(failed), 0), coalesce(sum(critical_failed), 0), max(validated_at) FROM latest WHERE rows > 0
    """).fetchone()
    suites, failed, critical, when = row
    if not suites:
        return None
    verdict = "all expectations met" if not failed else f"{failed} failed expectations ({critical} critical)"
    return f"Latest data-quality validations ({suites} suite×channel, last at {when:%Y-%m-%d %H:%M} UTC): {verdict}."


def _truth(landing: Path, date: str) -> dict[str, dict[str, int]]:
    from simulator import load_truth

    try:
        truth = load_truth(landing, date)
    except FileNotFoundError as exc:
        raise typer.BadParameter(f"no ground truth for {date} under {landing}/_truth", param_hint="--truth") from exc
    return {
        channel: {k: int(v[k]) for k in ("landed", "loaded", "quarantined", "duplicate")}
        for channel, v in truth["records_by_channel"].items()
    }
