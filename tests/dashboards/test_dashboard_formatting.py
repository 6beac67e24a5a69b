"""The formatting helpers every page uses for money, counts, rates, times and ages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from dashboards.formatting import format_age, format_count, format_money, format_pct, format_time, ratio


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1242346.14"), "¥1,242,346.14"),
        (Decimal("0"), "¥0.00"),
        (7, "¥7.00"),
        (Decimal("999.995"), "¥1,000.00"),
        (2.675, "¥2.68"),  # binary float 2.67499999...: still rounds half-up as written
        (Decimal("-1234.5"), "-¥1,234.50"),
        (None, "—"),
    ],
)
def test_format_money(value, expected):
    """Money is ¥, thousands-separated, 2 decimals rounded half-up (also for floats), sign before the ¥."""
    assert format_money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.024, "2.4%"), (0.0245, "2.5%"), (1, "100.0%"), (0, "0.0%"), (12.3456, "1,234.6%"), (None, "—")],
)
def test_format_pct(value, expected):
    """Rates are percentages with exactly 1 decimal, rounded half-up; an undefined rate is a dash."""
    assert format_pct(value) == expected


def test_ratio_is_undefined_for_zero_whole():
    """0 of 0 is no rate at all (shown as a dash), not 0%; otherwise a plain fraction."""
    assert ratio(0, 0) is None
    assert ratio(12, 500) == pytest.approx(0.024)
    assert ratio(Decimal("1"), Decimal("4")) == 0.25


def test_format_count():
    """Counts get thousands separators."""
    assert format_count(1234567) == "1,234,567"
    assert format_count(0) == "0"
    assert format_count(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "lang", "expected"),
    [
        (42.9, "zh", "42 秒前"),
        (119, "zh", "119 秒前"),
        (120, "zh", "2 分钟前"),
        (7199, "en", "119 min ago"),
        (7200, "en", "2 h ago"),
        (5, "en", "5 s ago"),
        (-3, "en", "0 s ago"),
    ],
)
def test_format_age(seconds, lang, expected):
    """Ages read in seconds up to 2 min, then minutes up to 2 h, then hours; clock skew never shows negative."""
    assert format_age(seconds, lang) == expected


def test_format_time():
    """Timestamps show to the second."""
    assert format_time(datetime(2026, 11, 26, 9, 5, 7, 999)) == "2026-11-26 09:05:07"
    assert format_time(None) == "—"
