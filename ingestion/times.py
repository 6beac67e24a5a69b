"""Reading the ISO 8601 times the contract's files carry, as RFC 3339 writes them: an offset (`+08:00`, `+0800`)
or `Z` for UTC, seconds with or without a fraction, `T` or a space between date and time."""

from __future__ import annotations

import polars as pl


def rfc3339_to_utc(text: pl.Expr) -> pl.Expr:
    """Naive UTC datetimes (µs) from RFC 3339 text; null where the text is not one (no offset included: a time
    without its zone is not an instant, and guessing one would move it by hours)."""
    with_offset = text.str.replace(r"[Zz]$", "+00:00").str.replace(" ", "T", literal=True)
    parsed = with_offset.str.to_datetime(format="%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us")
    return parsed.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
