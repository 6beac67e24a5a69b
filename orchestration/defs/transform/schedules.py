"""Schedules of the slow cadence: the nightly full rebuild and the whole-table checks between micro-batches."""

from __future__ import annotations

import dagster as dg

from ingestion.contract import LOCAL_TIMEZONE

# After the T+1 reconciliation at 02:00 (orchestration/defs/reconciliation/schedules.py), before the stores
# open: the rebuild replaces every incremental row with one computed from all history under today's rules.
FULL_REBUILD_CRON = "30 3 * * *"
# Hourly: a key or invariant broken in a micro-batch fails that micro-batch at once; these whole-table
# tests and suites find the slower drifts (a distribution, an accepted value) within the hour.
CHECKS_CRON = "15 * * * *"


def build_full_rebuild_schedule(job) -> dg.ScheduleDefinition:
    return _local_schedule(
        job,
        "full_rebuild_nightly",
        FULL_REBUILD_CRON,
        "Every mart rebuilt from scratch with every test, at 03:30 Asia/Shanghai.",
    )


def build_checks_schedule(job) -> dg.ScheduleDefinition:
    return _local_schedule(
        job,
        "whole_table_checks_hourly",
        CHECKS_CRON,
        "The dbt tests and GX mart suites the micro-batches leave out, every hour.",
    )


def _local_schedule(job, name: str, cron: str, description: str) -> dg.ScheduleDefinition:
    """Running by default, on the stores' clock."""
    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=LOCAL_TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=description,
    )
