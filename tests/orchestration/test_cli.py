"""The `orderhub` command line: commands exist, bad input gets a clear message, dispatch solves a
benchmark instance and prints JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vrp" / "cvrp"
runner = CliRunner()


def test_help_lists_the_commands():
    """Newcomers find simulate, run, summary, serve and dispatch in --help."""
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("simulate", "run", "summary", "serve", "dispatch"):
        assert command in result.output


def test_bad_date_is_a_clear_error(tmp_path):
    """A malformed --date says what is wrong instead of a traceback."""
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path), "--date", "26/11/2026"])
    assert result.exit_code != 0
    assert "is not a date like 2026-11-26" in result.output


def test_summary_without_warehouse_says_what_to_do(tmp_path):
    """`orderhub summary` on a missing warehouse tells the user to run the pipeline first."""
    result = runner.invoke(app, ["summary", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1
    assert "run `orderhub run` first" in result.output


def test_the_warehouse_and_landing_come_from_the_environment_when_not_given(tmp_path):
    """README: settings come from ORDERHUB_* variables, then the embedded defaults; an option given wins."""
    from_env = tmp_path / "from_env.duckdb"
    result = runner.invoke(app, ["summary"], env={"ORDERHUB_WAREHOUSE": str(from_env)})
    assert result.exit_code == 1 and f"no warehouse at {from_env}" in result.output
    given = tmp_path / "given.duckdb"
    result = runner.invoke(app, ["summary", "--warehouse", str(given)], env={"ORDERHUB_WAREHOUSE": str(from_env)})
    assert f"no warehouse at {given}" in result.output
    assert "ORDERHUB_LANDING" in runner.invoke(app, ["run", "--help"], terminal_width=200).output


def test_dispatch_vrplib_prints_cost_and_routes():
    """`orderhub dispatch vrplib` solves P-n16-k8 feasibly within 2% of its best-known 450 in 1 s."""
    instance = SHARED / "P-n16-k8.vrp"
    if not instance.exists():
        pytest.skip(f"VRPLIB data not found at {instance} (../shared/data is not part of the project)")
    result = runner.invoke(app, ["dispatch", "vrplib", str(instance), "--time-limit", "1"])
    assert result.exit_code == 0, result.output
    solved = json.loads(result.output)
    assert solved["feasible"] and solved["violations"] == []
    assert solved["cost"] <= 450 * 1.02
    served = sorted(c for route in solved["routes"] for c in route)
    assert served == list(range(1, 16))


def test_dispatch_mdrp_prints_the_metrics_as_json():
    """`orderhub dispatch mdrp` replays a Grubhub instance and accounts for every order."""
    instance = SHARED.parents[1] / "delivery" / "grubhub_mdrp" / "0o100t100s1p100"
    if not instance.exists():
        pytest.skip(f"Grubhub MDRP data not found at {instance} (../shared/data is not part of the project)")
    result = runner.invoke(app, ["dispatch", "mdrp", str(instance), "--policy", "greedy", "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert metrics["policy"] == "greedy" and metrics["delivered"] + metrics["undelivered"] == metrics["orders"] == 505


def test_dispatch_mdrp_names_what_is_wrong_with_a_folder(tmp_path):
    """A folder that is not an MDRP instance gets a clear error, not a traceback."""
    result = runner.invoke(app, ["dispatch", "mdrp", str(tmp_path)])
    assert result.exit_code == 2
    assert "missing" in result.output
