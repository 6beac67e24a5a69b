"""The `orderhub` command line: simulate a day, run the pipeline once, print the summary."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="orderhub: multi-channel order aggregation.")


def _register_subcommands() -> None:
    from orchestration.dispatch_cli import dispatch_app

    app.add_typer(dispatch_app, name="dispatch")

    from orchestration.recon_cli import recon_app

    app.add_typer(recon_app, name="recon")

    from orchestration.dq_cli import dq_app
    from orchestration.quarantine_cli import quarantine_app

    app.add_typer(dq_app, name="dq")
    app.add_typer(quarantine_app, name="quarantine")


_register_subcommands()


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="landing folder to write into")] = Path("landing"),
    date: Annotated[str, typer.Option(help="business day, YYYY-MM-DD (default: today in Asia/Shanghai)")] = "",
    orders: Annotated[int, typer.Option(min=1, help="orders to simulate for the day")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 7,
    live: Annotated[bool, typer.Option(help="keep writing new files for the current day until Ctrl-C")] = False,
    rate: Annotated[float, typer.Option(min=0.01, help="orders per second in --live mode")] = 5.0,
    duration: Annotated[float, typer.Option(help="stop --live after this many seconds (0 = never)")] = 0.0,
) -> None:
    """Write a simulated day (or a live stream) of every channel's orders in their native formats."""
    from ingestion import simulator

    if live:
        typer.echo(f"writing ~{rate} orders/s into {out} (Ctrl-C to stop)")
        try:
            simulator.run_live(out, rate=rate, seed=seed, duration_s=duration or None)
        except KeyboardInterrupt:
            typer.echo("stopped")
        return
    day = _parse_date(date)
    summary = simulator.simulate_day(day, orders=orders, seed=seed, out=out)
    typer.echo(str(summary))


@app.command()
def run(
    landing: Annotated[Path, typer.Option(help="landing folder to load")] = Path("landing"),
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path("warehouse/orderhub.duckdb"),
    serving: Annotated[Path | None, typer.Option(help="serving snapshot (default: serving.duckdb beside the warehouse)")] = None,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
    as_of: Annotated[str, typer.Option(
        "--as-of", help="the run's clock: a timestamp (UTC unless it has an offset), or a business day YYYY-MM-DD for "
                        "the end of that day (now, if it is today); default $ORDERHUB_AS_OF, else now")] = "",
) -> None:
    """Run the whole pipeline once through Dagster: landing → raw → dbt → serving snapshot."""
    from orchestration import clock
    from orchestration.pipeline import run_once

    try:
        run_clock = clock.parse(as_of) if as_of else None
    except clock.AsOfError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
    os.environ["ORDERHUB_LANDING"] = str(landing.resolve())
    os.environ["ORDERHUB_WAREHOUSE"] = str(warehouse.resolve())
    os.environ["ORDERHUB_SERVING"] = str((serving or warehouse.with_name("serving.duckdb")).resolve())
    ok = run_once(run_clock)
    if not ok:
        typer.echo("pipeline run failed: see the Dagster log above", err=True)
        raise typer.Exit(1)
    if not quiet:
        summary(warehouse)


@app.command()
def summary(
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path("warehouse/orderhub.duckdb"),
) -> None:
    """Print orders per channel, loaded / quarantined, parcels and the top exceptions."""
    from orchestration import summary as summary_module

    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first", err=True)
        raise typer.Exit(1)
    summary_module.render(summary_module.collect(warehouse))


def _parse_date(text: str) -> dt.date:
    if not text:
        from zoneinfo import ZoneInfo

        return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-26") from exc


@app.command()
def serve(
    landing: Annotated[Path, typer.Option(help="landing folder the sensor watches")] = Path("landing"),
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path("warehouse/orderhub.duckdb"),
    dagster_port: Annotated[int, typer.Option(help="Dagster UI port")] = 3000,
    dashboard_port: Annotated[int, typer.Option(help="dashboard port")] = 8501,
) -> None:
    """Serve the Dagster UI (with the landing sensor on) and the dashboard until Ctrl-C."""
    from orchestration.serve import serve as serve_both

    os.environ["ORDERHUB_LANDING"] = str(landing.resolve())
    os.environ["ORDERHUB_WAREHOUSE"] = str(warehouse.resolve())
    os.environ.setdefault("ORDERHUB_SERVING", str(warehouse.resolve().with_name("serving.duckdb")))
    serve_both(dagster_port, dashboard_port)


if __name__ == "__main__":
    app()
