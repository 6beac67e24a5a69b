"""`orderhub simulate`: write a simulated day (or a live stream) of every channel's orders into a landing folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer


def simulate(
    out: Annotated[Path, typer.Option(help="landing folder to write into")] = Path("landing"),
    date: Annotated[
        str, typer.Option(help="business day, YYYY-MM-DD (default: today where the stores are, Asia/Shanghai)")
    ] = "",
    orders: Annotated[int, typer.Option(min=1, help="orders to simulate for the day")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 7,
    live: Annotated[bool, typer.Option(help="keep writing new files for the current day until Ctrl-C")] = False,
    rate: Annotated[float, typer.Option(min=0.01, help="orders per second in --live mode")] = 5.0,
    duration: Annotated[float, typer.Option(help="stop --live after this many seconds (0 = never)")] = 0.0,
) -> None:
    """Write a simulated day (or a live stream) of every channel's orders in their native formats."""
    import simulator

    if live:
        typer.echo(f"writing ~{rate} orders/s into {out} (Ctrl-C to stop)")
        try:
            simulator.run_live(out, rate=rate, seed=seed, duration_s=duration or None)
        except KeyboardInterrupt:
            typer.echo("stopped")
        return
    day = _parse_date(date)
    summary = simulator.simulate_day(day, orders=orders, seed=seed, out=out)
    # A line per channel, not the summary's repr: a day is thousands of file paths.
    typer.echo(
        f"simulated {summary.date}: {summary.orders:,} orders (seed {summary.seed}) in {summary.files:,} files "
        f"under {summary.out}"
    )
    for channel, counts in summary.records_by_channel.items():
        typer.echo(f"  {channel:<12} " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))
    typer.echo(f"  ground truth: {summary.truth_path}")


def _parse_date(text: str) -> dt.date:
    if not text:
        from zoneinfo import ZoneInfo

        from ingestion.contract import LOCAL_TIMEZONE

        return dt.datetime.now(ZoneInfo(LOCAL_TIMEZONE)).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-26") from exc
