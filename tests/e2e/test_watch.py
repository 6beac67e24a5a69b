"""`orderhub watch`: one process that runs a micro-batch whenever files land. Its first run loads the day
there; looks at a quiet landing zone start no run; files landing later are loaded by the next run, in the same
process, into the same snapshot; Ctrl-C stops it. Real files, warehouse, dbt and Dagster, as a user runs it."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from pipeline_days import AS_OF_ENV, orderhub

pytestmark = [pytest.mark.e2e]

FIRST_DAY, SECOND_DAY = "2026-11-26", "2026-11-27"


def simulate(landing: Path, day: str, orders: int) -> None:
    result = orderhub("simulate", "--out", str(landing), "--date", day, "--orders", str(orders), "--seed", "11")
    assert result.returncode == 0, result.stderr


def orders_per_day(serving: Path) -> dict[str, int]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        rows = con.execute("SELECT business_date, sum(orders) FROM fct_daily_channel_summary GROUP BY 1").fetchall()
        return {str(day): int(n) for day, n in rows}
    finally:
        con.close()


def test_watch_runs_when_files_land_and_not_when_nothing_did(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "wh" / "orderhub.duckdb"
    serving = warehouse.with_name("serving.duckdb")
    simulate(landing, FIRST_DAY, orders=120)
    # The clock of the later day, so neither day's orders are from the future.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | {AS_OF_ENV: SECOND_DAY}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "watch", "--landing", str(landing), "--warehouse",
         str(warehouse), "--poll", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in watcher.stdout], daemon=True).start()
    seen: list[str] = []

    def wait_for(prefix: str, timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert watcher.poll() is None or not lines.empty(), "\n".join(seen[-40:])
                continue
            seen.append(line.rstrip())
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} within {timeout_s} s:\n" + "\n".join(seen[-40:]))

    try:
        assert "ok" in wait_for("run 1:", 420)
        assert orders_per_day(serving) == {FIRST_DAY: 120}
        time.sleep(2)  # about ten looks at a quiet landing zone: none may start a run
        assert not any(line.startswith("run 2:") for line in seen)
        simulate(landing, SECOND_DAY, orders=40)
        assert "ok" in wait_for("run 2:", 420)
        watcher.send_signal(signal.SIGINT)  # Ctrl-C between runs: a clean stop
        summary = wait_for("2 runs (0 failed)", 60)
        assert watcher.wait(timeout=60) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
    # The second run, in the same process, added the later day to the same snapshot.
    assert orders_per_day(serving) == {FIRST_DAY: 120, SECOND_DAY: 40}
    looks = int(re.search(r"(\d+) looks", summary).group(1))
    assert looks > 2 + 5, summary  # the quiet looks between the two runs
