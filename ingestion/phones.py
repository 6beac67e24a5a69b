"""Phone normalisation as polars expressions.

Channels hand us real mobiles, masked numbers (138****5678) and privacy relay numbers
(13812345678_1234 on Meituan, 13812345678,1234 on Eleme). All are kept as received; `phone_last4`
carries the customer's real last four digits where the channel reveals them, which is what
cross-channel matching needs. A relay number's digits belong to the relay, not the customer.
"""

from __future__ import annotations

import polars as pl

MOBILE = r"^1[3-9]\d{9}$"
# Meituan documents its masked numbers as 3 digits, stars, 3 digits (138*****678, see shared channel-formats.md);
# Eleme and others show 138****5678. Both are masked, never invalid.
MASKED = r"^1\d{2}\*{3,6}\d{3,4}$"
PRIVACY = r"^1\d{10}[_,#]\d{1,6}$"
LANDLINE = r"^0\d{2,3}-?\d{7,8}$"


def cleaned(col: str) -> pl.Expr:
    """Strip spaces, dashes inside mobiles and the +86 / 0086 country prefix."""
    text = pl.col(col).str.strip_chars().str.replace_all(r"[\s\u3000]", "")
    text = text.str.replace(r"^(\+86|0086)-?", "")
    mobile_with_dashes = text.str.contains(r"^1\d{2}-\d{4}-\d{4}$")
    return pl.when(mobile_with_dashes).then(text.str.replace_all("-", "")).otherwise(text)


def kind(col: str) -> pl.Expr:
    phone = pl.col(col)
    return (
        pl.when(phone.is_null() | (phone == ""))
        .then(pl.lit("missing"))
        .when(phone.str.contains(MOBILE))
        .then(pl.lit("mobile"))
        .when(phone.str.contains(MASKED))
        .then(pl.lit("masked"))
        .when(phone.str.contains(PRIVACY))
        .then(pl.lit("privacy"))
        .when(phone.str.contains(LANDLINE))
        .then(pl.lit("landline"))
        .otherwise(pl.lit("invalid"))
    )


def last4(phone_col: str, kind_col: str) -> pl.Expr:
    # A 3-digit mask tail cannot give four real digits: the last4 stays unknown rather than being half a star.
    reveals_customer_digits = pl.col(kind_col).is_in(["mobile", "masked", "landline"]) & pl.col(phone_col).str.contains(
        r"\d{4}$"
    )
    return pl.when(reveals_customer_digits).then(pl.col(phone_col).str.slice(-4)).otherwise(None)
