"""When the dispatch plan is re-made: on its own cadence (`dispatch.replan_every_seconds`), not at every
micro-batch.

Micro-batches come every few seconds so the big screen is seconds behind the orders; a rider's wave is
minutes long, and re-planning every waiting parcel of every store costs solver time per store that grows with
the day's backlog (bench/results/dashboard_freshness.md). So a micro-batch re-plans only when the plan is at
least that old by the run's clock; otherwise it keeps the plan and says so (the snapshot shows the plan's own
as_of). The nightly rebuild always re-plans, and so does a run whose clock is before the plan's (a replay
going back over a day).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def replan_reason(last_plan_as_of: datetime | None, as_of: datetime, every: timedelta, *, forced: bool) -> str | None:
    """Why a run at clock `as_of` re-plans, or None when the plan of `last_plan_as_of` is kept."""
    if forced:
        return "every part is rebuilt"
    if last_plan_as_of is None:
        return "there is no plan yet"
    if as_of < last_plan_as_of:
        return f"the run's clock is before the plan's ({last_plan_as_of:%Y-%m-%d %H:%M:%S} UTC)"
    if as_of - last_plan_as_of >= every:
        return f"the plan (as of {last_plan_as_of:%Y-%m-%d %H:%M:%S} UTC) is {as_of - last_plan_as_of} old"
    return None


def replan_interval(rules: dict[str, Any]) -> timedelta:
    """`dispatch.replan_every_seconds` of the rules file (0, re-plan at every micro-batch, when absent)."""
    return timedelta(seconds=float(rules["dispatch"].get("replan_every_seconds", 0)))
