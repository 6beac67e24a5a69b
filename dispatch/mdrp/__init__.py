"""The Grubhub Meal Delivery Routing Problem (MDRP) instances replayed through dispatch policies.

`run_instance(folder, policy)` reads an instance, simulates the day and returns the MDRP metrics.
"""

from __future__ import annotations

from pathlib import Path

from dispatch.mdrp.instance import Instance, MdrpFormatError, read_instance
from dispatch.mdrp.metrics import metrics
from dispatch.mdrp.policies import POLICIES, GreedyPolicy, RollingPolicy
from dispatch.mdrp.simulation import DEFAULT_CAPACITY, Run, Simulation, check_run

__all__ = [
    "DEFAULT_CAPACITY",
    "POLICIES",
    "GreedyPolicy",
    "Instance",
    "MdrpFormatError",
    "RollingPolicy",
    "Run",
    "Simulation",
    "check_run",
    "metrics",
    "read_instance",
    "run_instance",
]


def run_instance(folder: str | Path, policy: str = "rolling", capacity: int = DEFAULT_CAPACITY) -> dict:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
    instance = read_instance(folder)
    run = Simulation(instance, capacity).run(POLICIES[policy]())
    problems = check_run(run)
    if problems:
        raise RuntimeError(f"{instance.name}/{policy}: the run breaks the rules: {problems[:5]}")
    return metrics(run)
