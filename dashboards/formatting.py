"""How numbers, money, rates, times and ages are written on the dashboards (one place, so every page agrees).

Money: ``¥1,234,567.89`` (2 decimals, half-up, thousands separators). Rates: ``12.3%`` (1 decimal). Counts:
``1,234``. A missing value or an undefined rate (e.g. 0 cancelled of 0 orders) is written ``—``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from dashboards.i18n import DEFAULT_LANG, Lang, t

MISSING = "—"
_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")


def _decimal(value: Decimal | float | int) -> Decimal:
    # str() of a float is its shortest round-tripping form, so 2.675 rounds to 2.68 as a person expects.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def format_money(value: Decimal | float | int | None) -> str:
    """Yuan with the ¥ sign, thousands separators and 2 decimals: ``-¥1,234.50``."""
    if value is None:
        return MISSING
    amount = _decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def format_count(value: int | None) -> str:
    """A whole number with thousands separators: ``12,345``."""
    return MISSING if value is None else f"{int(value):,}"


def ratio(part: int | float | Decimal, whole: int | float | Decimal) -> float | None:
    """``part / whole``, or None when ``whole`` is zero (the rate is undefined, not 0%)."""
    return None if not whole else float(part) / float(whole)


def format_pct(fraction: float | Decimal | None) -> str:
    """A fraction as a percentage with 1 decimal: ``0.0241 -> "2.4%"``."""
    if fraction is None:
        return MISSING
    pct = (_decimal(fraction) * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return f"{pct:,.1f}%"


def format_age(seconds: float, lang: Lang = DEFAULT_LANG) -> str:
    """How long ago, in the largest whole unit that keeps it readable: ``42 秒前``, ``5 min ago``, ``3 h ago``.

    Seconds up to 2 minutes (operations watch the seconds), minutes up to 2 hours, then hours. A negative
    age (clock skew between the pipeline host and this one) is shown as 0 seconds.
    """
    whole = max(0, int(seconds))
    if whole < 120:
        return t("age.seconds", lang, n=whole)
    if whole < 120 * 60:
        return t("age.minutes", lang, n=whole // 60)
    return t("age.hours", lang, n=f"{whole // 3600:,}")


def format_time(value: datetime | None) -> str:
    """A timestamp to the second (``2026-11-26 11:32:05``); the caller knows which clock it is on."""
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
