"""The run summary printed after `orderhub run` and `make demo`: what landed, what loaded, what needs action."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.landing import ChangedFile
from ingestion.warehouse import has_table


@dataclass
class Summary:
    channels: list[tuple]  # channel, landed, loaded, quarantined, duplicate, orders, cancelled, paid_amount
    quarantine_reasons: list[tuple]  # channel, error_code, records
    parcels: tuple  # delivery orders, merge groups, parcels after split, saved by merging (vs split alone)
    dispatch: tuple | None  # routes, km (PyVRP), km (greedy), parcels unassigned — None before any plan
    exceptions: list[tuple]  # exception_type, severity, action, count
    unbalanced_batches: int
    changed_files: list[ChangedFile] = ()  # landing files rewritten after their load


def collect(warehouse: Path) -> Summary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        channels = con.execute(
            """
            with intake as (
                select channel, sum(landed) landed, sum(loaded) loaded, sum(quarantined) quarantined,
                       sum(duplicate) duplicate
                from raw.ingest_batches where channel not like 'reference/%' and channel not like 'settlement/%' group by channel
            ), orders as (
                select channel, sum(orders) orders, sum(cancelled_orders) cancelled, sum(paid_amount) paid_amount
                from marts.fct_daily_channel_summary group by channel
            )
            select i.channel, i.landed, i.loaded, i.quarantined, i.duplicate,
                   coalesce(o.orders, 0), coalesce(o.cancelled, 0), coalesce(o.paid_amount, 0)
            from intake i left join orders o using (channel) order by i.channel
            """
        ).fetchall()
        reasons = con.execute(
            "select channel, error_code, records from marts.fct_quarantine_summary order by records desc, channel limit 10"
        ).fetchall()
        parcels = con.execute(
            "select coalesce(sum(delivery_orders), 0), coalesce(sum(merge_groups), 0), "
            "coalesce(sum(parcels_after_split), 0), coalesce(sum(parcels_saved_by_merge), 0) "
            "from marts.fct_merge_savings_daily where business_date = (select max(business_date) from marts.fct_merge_savings_daily)"
        ).fetchall()[0]
        has_dispatch = has_table(con, "dispatch.dispatch_routes")
        dispatch = (
            con.execute(
                "select count(*) filter (where solver = 'pyvrp'), "
                "round(sum(distance_m) filter (where solver = 'pyvrp') / 1000.0, 1), "
                "round(sum(distance_m) filter (where solver = 'greedy') / 1000.0, 1), "
                "(select count(*) from dispatch.dispatch_unassigned where solver = 'pyvrp' and not coalesce(already_out, false)) "
                "from dispatch.dispatch_routes where business_date = (select max(business_date) from dispatch.dispatch_routes)"
            ).fetchall()[0]
            if has_dispatch
            else None
        )
        exceptions = con.execute(
            "select exception_type, severity, action, count(*) n from ("
            "  select exception_type, severity, action from marts.fct_exceptions where resolved_at is null"
            + (
                " union all select exception_type, severity, action from dispatch.dispatch_exceptions"
                if has_dispatch
                else ""
            )
            + ") group by all order by n desc limit 6"
        ).fetchall()
        unbalanced = con.execute(
            "select count(*) from raw.ingest_batches where landed <> loaded + quarantined + duplicate"
        ).fetchone()[0]
        changed = (
            [
                ChangedFile(*row)
                for row in con.execute(
                    "select path, size_loaded, size_seen from raw.ingest_file_changes order by seen_at desc, path limit 10"
                ).fetchall()
            ]
            if has_table(con, "raw.ingest_file_changes")
            else []
        )
    finally:
        con.close()
    return Summary(channels, reasons, parcels, dispatch, exceptions, unbalanced, changed)


def render(summary: Summary) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output (make, CI logs) defaults to 80 columns, which would cut the numbers.
    console = Console(width=max(Console().width, 110))
    intake = Table(title="Orders per channel")
    for column in ("channel", "landed", "loaded", "quarantined", "duplicate", "orders", "cancelled", "paid ¥"):
        intake.add_column(column, justify="left" if column == "channel" else "right")
    for channel, landed, loaded, quarantined, duplicate, orders, cancelled, paid in summary.channels:
        intake.add_row(
            channel, *(f"{v:,}" for v in (landed, loaded, quarantined, duplicate, orders, cancelled)), f"{paid:,.2f}"
        )
    console.print(intake)

    reasons = Table(title="Top quarantine reasons")
    for column in ("channel", "error", "records"):
        reasons.add_column(column)
    for channel, code, records in summary.quarantine_reasons:
        reasons.add_row(channel, code, f"{records:,}")
    console.print(reasons)

    delivery_orders, merge_groups, parcels, saved = summary.parcels
    console.print(
        f"Parcels (latest day): {delivery_orders:,} delivery orders → {merge_groups:,} after merging → "
        f"{parcels:,} after splitting by weight, size and temperature zone; merging saved {saved:,} parcels"
    )
    if summary.dispatch:
        routes, km, km_greedy, unassigned = summary.dispatch
        console.print(
            f"Dispatch (the day as of the run's clock): {routes:,} rider trips, {km or 0:,} km with PyVRP vs {km_greedy or 0:,} km greedy; "
            f"{unassigned:,} parcels waiting that no rider can take in time (see exceptions)"
        )
    exceptions = Table(title="Top exceptions")
    for column in ("type", "severity", "action", "open"):
        exceptions.add_column(column)
    for exception_type, severity, action, count in summary.exceptions:
        exceptions.add_row(exception_type, severity, action, f"{count:,}")
    console.print(exceptions)
    balance = (
        "all batches balance" if summary.unbalanced_batches == 0 else f"{summary.unbalanced_batches} UNBALANCED batches"
    )
    console.print(f"Row accounting (landed = loaded + quarantined + duplicate): {balance}")
    for changed in summary.changed_files:
        console.print(f"[bold]Landing file changed after it was loaded[/bold]: {changed.describe()}")
