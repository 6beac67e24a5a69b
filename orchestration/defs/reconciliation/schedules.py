"""Schedules: the nightly (T+1) settlement reconciliation."""

from __future__ import annotations

import dagster as dg

RECON_HOUR = 2  # 02:00 Asia/Shanghai, for the day before


def build_recon_schedule(recon_job) -> dg.ScheduleDefinition:
    """Every day at 02:00 in the partitions' time zone (Asia/Shanghai), reconcile the previous day: the
    schedule targets the last complete daily partition."""
    return dg.build_schedule_from_partitioned_job(
        recon_job,
        name="reconciliation_daily",
        hour_of_day=RECON_HOUR,
        minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="T+1 settlement reconciliation of yesterday, at 02:00 Asia/Shanghai.",
    )
