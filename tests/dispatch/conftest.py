"""Fixtures for the routing tests: a short-time-limit config and the shared VRP benchmark data (tests
that need it skip with a message when it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from routing_fixtures import SHARED_DATA

from dispatch import RoutingConfig


@pytest.fixture
def config() -> RoutingConfig:
    return RoutingConfig(time_limit_s=1.0, seed=1)


@pytest.fixture(scope="session")
def vrp_data() -> Path:
    path = SHARED_DATA / "vrp"
    if not path.exists():
        pytest.skip(f"VRP benchmark data not found at {path} (shared/data beside the project); skipping")
    return path
