"""The VRPLIB runner on the shared benchmark instances (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import vrplib

from dispatch.problem import RawRoute, RawSolution, check_solution, total_distance
from dispatch.vrplib_runner import load_instance, read_best_known, solve_instance


def test_read_best_known(tmp_path: Path):
    """The `Cost N` line is found after the routes, integer or decimal."""
    sol = tmp_path / "x.sol"
    sol.write_text("Route #1: 1 2\nRoute #2: 3\nCost 827.3\n")
    assert read_best_known(sol) == 827.3
    sol.write_text("Route #1: 1\n")
    with pytest.raises(ValueError):
        read_best_known(sol)


def test_p_n16_k8_within_a_few_percent_at_two_seconds(vrp_data: Path):
    """PyVRP reaches the proven optimum of P-n16-k8 (450) within 2 % in 2 s, with a feasible solution
    that visits every client once, using the instance's rounded Euclidean distances."""
    path = vrp_data / "cvrp" / "P-n16-k8.vrp"
    bks = read_best_known(path.with_suffix(".sol"))
    res = solve_instance(path, time_limit_s=2, seed=1, solver="pyvrp")
    assert res["feasible"] and res["violations"] == []
    assert sorted(c for r in res["routes"] for c in r) == list(range(1, 16))
    assert res["cost"] <= bks * 1.02


def test_cvrp_best_known_solution_costs_its_stated_cost(vrp_data: Path):
    """Our CVRPLIB distance convention is the published one: the A-n32-k5 best-known routes cost exactly
    their `Cost` line and are feasible in our model."""
    path = vrp_data / "cvrp" / "A-n32-k5.vrp"
    problem, scale = load_instance(path)
    routes = vrplib.read_solution(str(path.with_suffix(".sol")))["routes"]
    raw = RawSolution([RawRoute(0, list(r)) for r in routes], [], 0.0)
    assert check_solution(problem, raw) == []
    assert total_distance(problem, raw) / scale == read_best_known(path.with_suffix(".sol"))


def test_solomon_reader_fleet_windows_and_best_known(vrp_data: Path):
    """The Solomon reader keeps C101's 25 vehicles of capacity 200 and its depot horizon; the
    best-known routes are feasible and cost 827.3 under the DIMACS convention (x10, truncated)."""
    path = vrp_data / "vrptw" / "C101.txt"
    problem, scale = load_instance(path)
    assert scale == 10
    (fleet,) = problem.vehicles
    assert fleet.num_available == 25 and fleet.capacity == (200,)
    assert (fleet.tw_early, fleet.tw_late) == (0, 12360)
    assert problem.num_clients == 100 and int(problem.service[1]) == 900
    routes = vrplib.read_solution(str(path.with_suffix(".sol")))["routes"]
    raw = RawSolution([RawRoute(0, list(r)) for r in routes], [], 0.0)
    assert check_solution(problem, raw) == []
    assert total_distance(problem, raw) / scale == pytest.approx(827.3)


def test_solomon_solve_is_feasible_within_the_fleet(vrp_data: Path):
    """Solving R101 for 1 s gives routes that respect every time window and capacity, serve all 100
    customers once and use no more than the instance's 25 vehicles."""
    res = solve_instance(vrp_data / "vrptw" / "R101.txt", time_limit_s=1, seed=1, solver="pyvrp")
    assert res["feasible"], res["violations"]
    assert res["vehicles"] <= 25
    assert sorted(c for r in res["routes"] for c in r) == list(range(1, 101))
    assert res["cost"] >= read_best_known(vrp_data / "vrptw" / "R101.sol") - 1e-6


@pytest.mark.parametrize("solver", ["ortools", "greedy"])
def test_baselines_run_on_vrplib(vrp_data: Path, solver: str):
    """The baselines solve the same CVRP instance through the same runner and report a feasible cost no
    better than the proven optimum."""
    path = vrp_data / "cvrp" / "P-n16-k8.vrp"
    res = solve_instance(path, time_limit_s=1, seed=1, solver=solver)
    assert res["feasible"] and res["cost"] >= 450
