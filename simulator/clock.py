"""Time helpers. Shanghai has had no DST since 1991, so a fixed +08:00 offset is exact and much cheaper
than zoneinfo for the hundreds of thousands of timestamps a day produces."""

from __future__ import annotations

import datetime as dt

LOCAL_OFFSET_S = 8 * 3600
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8))
SLOT_S = 15 * 60  # one landing file per channel per 15 minutes of business time
DAY_S = 24 * 3600


def day_start_epoch(date: dt.date) -> int:
    """Epoch seconds (UTC) of local midnight starting `date`."""
    return int(dt.datetime(date.year, date.month, date.day, tzinfo=LOCAL_TZ).timestamp())


def local_parts(epoch: int) -> tuple[str, int]:
    """(YYYY-MM-DD, seconds into that local day) for an epoch second."""
    local = epoch + LOCAL_OFFSET_S
    days, sod = divmod(local, DAY_S)
    return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat(), sod


def hms(sod: int) -> str:
    h, rem = divmod(sod, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def iso_local(epoch: int) -> str:
    """`2026-11-26T11:32:05+08:00`"""
    d, sod = local_parts(epoch)
    return f"{d}T{hms(sod)}+08:00"


def naive_local(epoch: int, sep: str = " ") -> str:
    """`2026-11-26 11:32:05` (POS, group-buy) or with sep='T' `2026-11-26T11:32:05` (Eleme)."""
    d, sod = local_parts(epoch)
    return f"{d}{sep}{hms(sod)}"


def next_day(day: str, days: int = 1) -> str:
    """The ISO date `days` after the ISO date `day`."""
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def today_local() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()
