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
