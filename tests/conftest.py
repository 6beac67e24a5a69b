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


@pytest.fixture(scope="session")
def simulated_day(tmp_path_factory) -> tuple[Path, dict]:
    """(landing root, ground truth) of one simulated day containing every kind of bad record."""
    from simulator import load_truth, simulate_day

    landing = tmp_path_factory.mktemp("landing")
    simulate_day(SIM_DATE, orders=SIM_ORDERS, seed=SIM_SEED, out=landing)
    return landing, load_truth(landing, SIM_DATE)
