"""`orderhub run` (the pipeline once, through Dagster), `orderhub watch` (a micro-batch whenever files land, in
one long-lived process) and `orderhub summary` (what it did)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, SERVING, WAREHOUSE


def run(
    landing: Annotated[Path, typer.Option(help="landing folder to load", envvar="ORDERHUB_LANDING")] = Path("landing"),
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    serving: SERVING = None,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="the run's clock: a timestamp (UTC unless it has an offset), or a business day YYYY-MM-DD for "
            "the end of that day (now, if it is today); default $ORDERHUB_AS_OF, else now",
        ),
    ] = "",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="run even when nothing new has landed and the snapshot is current: to re-judge late risk and "
            "re-plan dispatch at a later clock, or to rebuild after changing config/rules.yml or the dbt models",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="the nightly job instead of a micro-batch: every mart rebuilt from scratch with every dbt test "
            "and GX suite (after changing reference data such as promotions; rules and model changes are "
            "picked up by the next micro-batch by themselves)",
        ),
    ] = False,
) -> None:
    """Run the whole pipeline once through Dagster: landing → raw → dbt → serving snapshot.

    When nothing new has landed and the snapshot is current (at the clock given, if one is), no run is
    started: one line says so and the exit code is 0. --force runs anyway."""
    from orchestration import clock, idle
    from orchestration.settings import Settings

    try:
        run_clock = clock.parse(as_of) if as_of else None
    except clock.AsOfError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from exc
    # The snapshot goes beside the warehouse unless --serving says otherwise ($ORDERHUB_SERVING does not apply).
    settings = Settings.from_env(
        landing=landing, warehouse=warehouse, serving=serving or warehouse.with_name("serving.duckdb")
    )
    if not (force or full):
        verdict = idle.check(settings, run_clock or clock.from_env())
        if verdict.idle:
            typer.echo(verdict.reason)
            return
    from orchestration.pipeline import run_once

    # Checked just above: the run goes ahead whatever the check would say a moment later.
    ok = run_once(settings, run_clock, force=True, full=full)
    if not ok:
        typer.echo("pipeline run failed: see the Dagster log above", err=True)
        raise typer.Exit(1)
    if not quiet:
        summary(warehouse)


def watch(
    landing: Annotated[Path, typer.Option(help="landing folder to watch", envvar="ORDERHUB_LANDING")] = Path("landing"),
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    serving: SERVING = None,
    poll: Annotated[float, typer.Option(help="seconds between looks at the landing zone")] = 1.0,
    max_runs: Annotated[int | None, typer.Option(help="stop after this many runs")] = None,
    max_idle_checks: Annotated[
        int | None, typer.Option(help="stop after this many looks in a row found nothing new")
    ] = None,
) -> None:
    """Run a micro-batch whenever new files land, in this one process, until Ctrl-C: the low-latency
    alternative to the Dagster sensor (run one or the other; docs/micro-batches.md)."""
    from orchestration.settings import Settings
    from orchestration.worker import watch as watch_landing

    settings = Settings.from_env(
        landing=landing, warehouse=warehouse, serving=serving or warehouse.with_name("serving.duckdb")
    )
    result = watch_landing(settings, poll_seconds=poll, max_runs=max_runs, max_idle_checks=max_idle_checks)
    typer.echo(f"{result.runs} runs ({result.failed} failed), {result.checks} looks at the landing zone")
    if result.failed:
        raise typer.Exit(1)


def summary(
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
) -> None:
    """Print orders per channel, loaded / quarantined, parcels and the top exceptions."""
    from orchestration.cli import summary as summary_module

    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first", err=True)
        raise typer.Exit(1)
    summary_module.render(summary_module.collect(warehouse))
