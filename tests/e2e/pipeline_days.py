"""Harness for whole-pipeline runs over simulated days (a module with a unique name, so tests can import it
without clashing with other folders' conftest modules)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

AS_OF_ENV = "ORDERHUB_AS_OF"


def replay_clock(landing: Path) -> str:
    """The clock a replay of `landing` runs at: its newest business day, which `orderhub run` reads as that day's
    end. Without it the run would judge a simulated past day at today's clock: every open order late, and no
    parcel on today's dispatch plan."""
    days = sorted(p.name for p in landing.glob("orders/*/*") if p.is_dir())
    assert days, f"no order day folders under {landing}"
    return days[-1]


def orderhub(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`orderhub ARGS` in a subprocess, as a user runs it, outside any Dagster home, with extra environment."""
    full_env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args], env=full_env, capture_output=True, text=True, timeout=600
    )


def orderhub_run(
    landing: Path, warehouse: Path, crash_at: str | None = None, *extra: str
) -> subprocess.CompletedProcess:
    """`orderhub run` at the clock of the landing's newest day (a crash point set through the fault-injection
    variable), so a clean run and a rerun judge the same exceptions."""
    env = {AS_OF_ENV: replay_clock(landing)} | ({"ORDERHUB_CRASH_AT": crash_at} if crash_at else {})
    return orderhub("run", "--landing", str(landing), "--warehouse", str(warehouse), *extra, env=env)


def run_at(
    landing: Path, warehouse: Path, as_of: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`orderhub run --as-of AS_OF` with extra environment (fault injection)."""
    return orderhub(
        "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", as_of, "--quiet", env=env
    )
