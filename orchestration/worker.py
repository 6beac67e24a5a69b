"""`orderhub watch`: one long-lived process that runs a micro-batch whenever new files land.

The landing sensor starts every run in a new process (Dagster's run launcher), and such a process spends
seconds before it loads anything: starting Python, importing Dagster, dbt's adapter, cpca and Great
Expectations, loading the definitions (bench/results/dashboard_freshness.md). For a big screen that should be
seconds behind the orders, this worker pays that once: it keeps the jobs loaded (`pipeline.Runner`), checks
the landing zone every `poll` seconds with the same cheap idle check `orderhub run` uses, and runs the
micro-batch job in-process when something is new. Runs are recorded in the same Dagster instance as any other.

It replaces the sensor, it does not sit beside it: DuckDB lets one process write the warehouse at a time, so run
one or the other (docs/micro-batches.md).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from orchestration import clock, idle
from orchestration.settings import Settings


@dataclass
class WatchSummary:
    runs: int = 0
    failed: int = 0
    checks: int = 0


class _StopFlag:
    """Set by SIGTERM or SIGINT: the run under way finishes (a half-done batch would only be redone), then the
    loop ends."""

    def __init__(self) -> None:
        self.stopped = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.stopped = True


def watch(
    settings: Settings,
    *,
    poll_seconds: float = 1.0,
    retry_seconds: float = 60.0,
    max_runs: int | None = None,
    max_idle_checks: int | None = None,
    say: Callable[[str], None] = print,
) -> WatchSummary:
    """Run the micro-batch job each time the landing zone has something new, until stopped, or until
    `max_runs` runs or `max_idle_checks` consecutive checks found nothing (both for tests and benches).
    After a failed run, the next starts when new files land, or after `retry_seconds`."""
    stop = _StopFlag()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    summary = WatchSummary()
    try:
        from orchestration.pipeline import Runner, RunOutcome

        started = time.monotonic()
        runner = Runner(settings)
        say(f"watching {settings.landing} (jobs loaded in {time.monotonic() - started:.1f} s)")
        quiet, failed_at = 0, None
        while not stop.stopped:
            summary.checks += 1
            if failed_at is not None and time.monotonic() - failed_at < retry_seconds:
                # The snapshot of a failed run reads as work to do; a run that failed on its own data would fail
                # again, so until new files land the retry waits (a lock or a full disk may heal meanwhile).
                verdict = idle.landed_since_checkpoint(settings)
            else:
                verdict = idle.check(settings, clock.from_env())
            if verdict.idle:
                quiet += 1
                if max_idle_checks is not None and quiet >= max_idle_checks:
                    break
                time.sleep(poll_seconds)
                continue
            quiet = 0
            began = time.monotonic()
            say(f"run {summary.runs + 1} started: {verdict.reason}")
            try:
                outcome = runner.run(clock.from_env())
            except Exception as exc:  # the watch outlives a run that could not even start (e.g. a locked file)
                say(f"the run could not run: {type(exc).__name__}: {exc}")
                outcome = RunOutcome(success=False)
            if outcome.interrupted:
                # Dagster takes SIGINT/SIGTERM over while a run executes, so the stop arrives as this.
                say(f"stopped during run {summary.runs + 1}; its batch is redone by the next start")
                break
            ok = outcome.success
            summary.runs += 1
            summary.failed += not ok
            failed_at = None if ok else time.monotonic()
            say(f"run {summary.runs}: {'ok' if ok else 'FAILED'} in {time.monotonic() - began:.1f} s")
            if max_runs is not None and summary.runs >= max_runs:
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return summary
