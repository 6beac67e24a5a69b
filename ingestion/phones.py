"""Phone normalisation as polars expressions.

The forms the platforms send (sources in docs/channel-semantics.md):
- a real mobile, `13812345678`;
- a masked number, a 3-digit prefix, one or more stars, and a 3- or 4-digit tail: Meituan documents
  `138*****678` and its 脱敏 orders show `156*013`; Eleme and Meituan's remark show `138****5678`;
- `手机尾号1234` / `尾号1234`, the tail alone;
- a privacy relay number with an extension, `13812345678_1234` (Meituan), `13812345678,1234` (Eleme), also
  written with `#` or `转`, and sometimes with the relay's own digits masked (`132********_6459`);
- a landline.

All are kept as received (after trimming and width folding); `phone_last4` carries four digits only where
they are the customer's own: a relay number's digits belong to the relay, and a 3-digit tail cannot give four
digits. A masked tail of three digits is still usable evidence and is matched in the identity model.
"""

from __future__ import annotations

import polars as pl

MOBILE = r"^1[3-9]\d{9}$"
MASKED = r"^1\d{2}\*{1,8}\d{3,4}$"
TAIL_ONLY = r"^(?:手机)?尾号\d{4}$"
PRIVACY = r"^1\d{2}[\d*]{8}(?:[_,#]|转)\d{1,6}$"
LANDLINE = r"^0\d{2,3}-?\d{7,8}$"
# Every form `kind` accepts, for checks outside ingestion that want one pattern.
ANY_PHONE = "|".join(f"(?:{p})" for p in (MOBILE, MASKED, TAIL_ONLY, PRIVACY, LANDLINE))

# Where a remark carries the customer's masked real number next to the relay, as Meituan writes it:
# "收餐人隐私号 18449039731_7333，手机号 199****8582".
_REMARK_MASKED_REAL = r"手机号[:：]?\s*(1\d{2}\*{3,6}\d{4})"

# Full-width digits and marks as ASCII, so `１３８＊＊＊＊５６７８` reads like `138****5678`.
_FULL_WIDTH = list("０１２３４５６７８９＊，＃＿－＋")
_HALF_WIDTH = list("0123456789*,#_-+")


def cleaned(col: str) -> pl.Expr:
    """Fold full-width characters; strip spaces, dashes inside mobiles and the +86 / 0086 country prefix."""
    text = pl.col(col).str.replace_many(_FULL_WIDTH, _HALF_WIDTH)
    text = text.str.strip_chars().str.replace_all(r"[\s\u3000]", "")
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
        .when(phone.str.contains(MASKED) | phone.str.contains(TAIL_ONLY))
        .then(pl.lit("masked"))
        .when(phone.str.contains(PRIVACY))
        .then(pl.lit("privacy"))
        .when(phone.str.contains(LANDLINE))
        .then(pl.lit("landline"))
        .otherwise(pl.lit("invalid"))
    )


def remark_first3(phone_col: str, kind_col: str, hint_col: str) -> pl.Expr:
    """The first three digits of the customer's own mobile from a remark's masked real number, where the number
    itself does not show the customer's digits (a relay number; a mask whose tail is not the remark's): the
    four digits alone would match anyone at the door ending in them, whatever their number starts with."""
    phone, phone_kind = pl.col(phone_col), pl.col(kind_col)
    revealed = pl.col(hint_col).str.extract(_REMARK_MASKED_REAL, 1)
    own_tail = (phone_kind == "masked") & phone.str.contains(r"[^\d]\d{4}$")
    return pl.when(phone_kind.is_in(["masked", "privacy"]) & ~own_tail).then(revealed.str.slice(0, 3))


def last4(phone_col: str, kind_col: str, hint_col: str | None = None) -> pl.Expr:
    """The customer's last four digits: from the number itself, else from a remark's masked real number."""
    phone, phone_kind = pl.col(phone_col), pl.col(kind_col)
    # A mask's tail is the customer's only when four digits follow the stars (or 尾号).
    reveals_customer_digits = phone_kind.is_in(["mobile", "landline"]) | (
        (phone_kind == "masked") & phone.str.contains(r"[^\d]\d{4}$")
    )
    own = pl.when(reveals_customer_digits).then(phone.str.slice(-4)).otherwise(None)
    if hint_col is None:
        return own
    from_remark = pl.col(hint_col).str.extract(_REMARK_MASKED_REAL, 1).str.slice(-4)
    # A remark's digits are only trusted when the number itself gives none (relay, 3-digit mask).
    return pl.coalesce(own, pl.when(phone_kind.is_in(["masked", "privacy"])).then(from_remark))
