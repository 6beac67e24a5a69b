"""The run summary printed after `orderhub run` and `make demo`: what landed, what loaded, what needs action."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass
class Summary:
    channels: list[tuple]  # channel, landed, loaded, quarantined, duplicate, orders, cancelled, paid_amount
    quarantine_reasons: list[tuple]  # channel, error_code, records
    parcels: int
    delivery_orders: int
    exceptions: list[tuple]  # exception_type, severity, action, count
    unbalanced_batches: int


def collect(warehouse: Path) -> Summary:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        channels = con.execute(
            """
            with intake as (
                select channel, sum(landed) landed, sum(loaded) loaded, sum(quarantined) quarantined,
                       sum(duplicate) duplicate
                from raw.ingest_batches where channel not like 'reference/%' group by channel
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
        delivery_orders = con.execute(
            "select count(*) from marts.fct_orders where fulfilment_type = 'delivery' and not is_cancelled"
        ).fetchone()[0]
        exceptions = con.execute(
            "select exception_type, severity, action, count(*) n from marts.fct_exceptions "
            "group by all order by n desc limit 5"
        ).fetchall()
        unbalanced = con.execute(
            "select count(*) from raw.ingest_batches where landed <> loaded + quarantined + duplicate"
        ).fetchone()[0]
    finally:
        con.close()
    # Until cross-channel merging lands (issue 3), every open delivery order is its own parcel.
    return Summary(channels, reasons, delivery_orders, delivery_orders, exceptions, unbalanced)


def render(summary: Summary) -> None:
    from rich.console import Console
    from rich.table import Table

    # Piped output (make, CI logs) defaults to 80 columns, which would cut the numbers.
    console = Console(width=max(Console().width, 110))
    intake = Table(title="Orders per channel")
    for column in ("channel", "landed", "loaded", "quarantined", "duplicate", "orders", "cancelled", "paid ¥"):
        intake.add_column(column, justify="left" if column == "channel" else "right")
    for channel, landed, loaded, quarantined, duplicate, orders, cancelled, paid in summary.channels:
        intake.add_row(channel, *(f"{v:,}" for v in (landed, loaded, quarantined, duplicate, orders, cancelled)), f"{paid:,.2f}")
    console.print(intake)

    reasons = Table(title="Top quarantine reasons")
    for column in ("channel", "error", "records"):
        reasons.add_column(column)
    for channel, code, records in summary.quarantine_reasons:
        reasons.add_row(channel, code, f"{records:,}")
    console.print(reasons)

    console.print(f"Parcels to deliver: {summary.parcels:,} (one per open delivery order until merging lands)")
    exceptions = Table(title="Top exceptions")
    for column in ("type", "severity", "action", "open"):
        exceptions.add_column(column)
    for exception_type, severity, action, count in summary.exceptions:
        exceptions.add_row(exception_type, severity, action, f"{count:,}")
    console.print(exceptions)
    balance = "all batches balance" if summary.unbalanced_batches == 0 else f"{summary.unbalanced_batches} UNBALANCED batches"
    console.print(f"Row accounting (landed = loaded + quarantined + duplicate): {balance}")
