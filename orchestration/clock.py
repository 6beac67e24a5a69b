"""The run's clock: one `as_of` (naive UTC, like every timestamp in the warehouse) per pipeline run, handed to
dbt (var `as_of`), dispatch planning and the serving snapshot alike, so the three agree on "now".

Where it comes from, first found wins:
1. the run's tag `orderhub/as_of` (set by `orderhub run --as-of` or a launcher replaying a past day);
2. the environment variable ORDERHUB_AS_OF (a whole deployment replaying, e.g. a test);
3. the time the run was created: the real clock, read once, so all steps of a run share it.

Never the newest order's time: when orders stop arriving, late risk and the dispatch horizon must move on.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ingestion.contract import LOCAL_TIMEZONE

AS_OF_TAG = "orderhub/as_of"
AS_OF_ENV = "ORDERHUB_AS_OF"
FORMAT = "%Y-%m-%d %H:%M:%S"


class AsOfError(ValueError):
    pass


def parse(text: str, local_timezone: str = LOCAL_TIMEZONE, *, now: datetime | None = None) -> datetime:
    """An as_of as naive UTC from what a user types: an ISO timestamp (naive = UTC, or with an offset), or a
    business day YYYY-MM-DD meaning the end of that day in `local_timezone` (the current time if the day is
    today or later: a replay cannot be judged at an hour that has not come)."""
    text = text.strip()
    now = now or utc_now()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            tz = ZoneInfo(local_timezone)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz) - timedelta(seconds=1)
            return min(to_utc(end), now)
        return to_utc(datetime.fromisoformat(text))
    except ValueError as exc:
        raise AsOfError(
            f"as_of {text!r} is neither a date (2026-11-26) nor a timestamp (2026-11-26T14:00:00, "
            "UTC unless it carries an offset)"
        ) from exc


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def utc_now() -> datetime:
    return to_utc(datetime.now(UTC))


def format_as_of(moment: datetime) -> str:
    return moment.strftime(FORMAT)


def from_env() -> datetime | None:
    """ORDERHUB_AS_OF, read as `parse` reads it (a business day means its end), or None when unset."""
    text = os.environ.get(AS_OF_ENV, "").strip()
    return parse(text) if text else None


def requested_as_of() -> datetime:
    """The clock of a run requested now (by a sensor): ORDERHUB_AS_OF, else the real clock."""
    return from_env() or utc_now()


def run_as_of(context) -> datetime:
    """The as_of of the run `context` (an asset or check execution context) belongs to."""
    tagged = context.run.tags.get(AS_OF_TAG)
    if tagged:
        return to_utc(datetime.fromisoformat(tagged))
    configured = from_env()
    if configured is not None:
        return configured
    record = context.instance.get_run_record_by_id(context.run_id)
    if record is not None and record.create_timestamp is not None:
        return to_utc(record.create_timestamp)
    return utc_now()
