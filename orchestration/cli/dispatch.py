"""`orderhub dispatch …`: the routing library from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

dispatch_app = typer.Typer(no_args_is_help=True, help="Dispatch planning and routing benchmarks.")


@dispatch_app.command("vrplib")
def vrplib(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="VRPLIB .vrp (CVRP) or Solomon .txt (VRPTW) instance")
    ],
    time_limit: Annotated[float, typer.Option(min=0.1, help="solver time limit in seconds")] = 30.0,
    seed: Annotated[int, typer.Option(help="solver seed")] = 1,
    solver: Annotated[str, typer.Option(help="pyvrp, ortools or greedy")] = "pyvrp",
) -> None:
    """Solve a benchmark instance with the instance's own distance convention; print cost and routes as JSON."""
    from dispatch.vrplib_runner import solve_instance

    if solver not in ("pyvrp", "ortools", "greedy"):
        raise typer.BadParameter(f"unknown solver {solver!r}: use pyvrp, ortools or greedy")
    result = solve_instance(file, time_limit_s=time_limit, seed=seed, solver=solver)
    typer.echo(json.dumps(result, ensure_ascii=False, default=str))


@dispatch_app.command("mdrp")
def mdrp(
    instance_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="a Grubhub MDRP instance folder (orders.txt, …)")
    ],
    policy: Annotated[str, typer.Option(help="greedy or rolling")] = "rolling",
    capacity: Annotated[int, typer.Option(min=1, help="orders a courier carries per trip")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line instead of indented JSON")] = False,
) -> None:
    """Replay one meal-delivery instance under a dispatch policy; print the MDRP metrics as JSON."""
    from dispatch.mdrp import POLICIES, MdrpFormatError, run_instance

    if policy not in POLICIES:
        raise typer.BadParameter(f"unknown policy {policy!r}: use {' or '.join(POLICIES)}")
    try:
        result = run_instance(instance_dir, policy=policy, capacity=capacity)
    except MdrpFormatError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(result, ensure_ascii=False, indent=None if as_json else 2))
