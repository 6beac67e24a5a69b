"""`orderhub run` (the pipeline once, through Dagster) and `orderhub summary` (what it did)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run(
    landing: Annotated[Path, typer.Option(help="landing folder to load")] = Path("landing"),
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path("warehouse/orderhub.duckdb"),
    serving: Annotated[
        Path | None, typer.Option(help="serving snapshot (default: serving.duckdb beside the warehouse)")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="the run's clock: a timestamp (UTC unless it has an offset), or a business day YYYY-MM-DD for "
            "the end of that day (now, if it is today); default $ORDERHUB_AS_OF, else now",
        ),
    ] = "",
) -> None:
    """Run the whole pipeline once through Dagster: landing → raw → dbt → serving snapshot."""
    from orchestration import clock
    from orchestration.pipeline import run_once
    from orchestration.settings import Settings

    try:
        run_clock = clock.parse(as_of) if as_of else None
    except clock.AsOfError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
    # The snapshot goes beside the warehouse unless --serving says otherwise ($ORDERHUB_SERVING does not apply).
    settings = Settings.from_env(
        landing=landing, warehouse=warehouse, serving=serving or warehouse.with_name("serving.duckdb")
    )
    ok = run_once(settings, run_clock)
    if not ok:
        typer.echo("pipeline run failed: see the Dagster log above", err=True)
        raise typer.Exit(1)
    if not quiet:
        summary(warehouse)


def summary(
    warehouse: Annotated[Path, typer.Option(help="DuckDB warehouse file")] = Path("warehouse/orderhub.duckdb"),
) -> None:
    """Print orders per channel, loaded / quarantined, parcels and the top exceptions."""
    from orchestration.cli import summary as summary_module

    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first", err=True)
        raise typer.Exit(1)
    summary_module.render(summary_module.collect(warehouse))
