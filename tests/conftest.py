"""Shared fixtures: a simulated day in a temporary landing zone, built once per test session."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

SIM_DATE = dt.date(2026, 11, 26)
SIM_ORDERS = 5000
SIM_SEED = 11

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")


def pytest_collection_modifyitems(config, items) -> None:
    """Modules marked slow first, each module's tests kept together and in order. `make test` runs pytest-xdist
    with --dist loadscope --no-loadscope-reorder, which hands modules to the workers in this order: the few long
    modules (a pipeline run, a hundred micro-batches) start at once on both workers, and the many short ones fill
    in at the end, so the two finish together. xdist's own order (most tests first) started the long modules,
    which have few tests, last: one worker ran a six-minute module alone at the end."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: modules stay whole and in order


@pytest.fixture(scope="session")
def simulated_day(tmp_path_factory) -> tuple[Path, dict]:
    """(landing root, ground truth) of one simulated day containing every kind of bad record."""
    from simulator import load_truth, simulate_day

    landing = tmp_path_factory.mktemp("landing")
    simulate_day(SIM_DATE, orders=SIM_ORDERS, seed=SIM_SEED, out=landing)
    return landing, load_truth(landing, SIM_DATE)
