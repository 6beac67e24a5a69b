"""Personal data on screen: phone numbers and names are masked on every page (a big screen is seen by many).

- ``mask_phone("13812345678") == "138****5678"``: a mainland mobile keeps its first three and last four digits,
  as the platforms show it; a landline keeps its area code and last four digits (``021-****5678``); a relay
  number's extension (``17188671709_2465``) is kept, it identifies nobody without the platform.
- ``mask_name("张三") == "张*"``: the first character (the surname for Chinese names) and one star per other
  character; titles in brackets are dropped (``梁(女士)`` -> ``梁*``).
- ``mask_text(text)`` masks every phone number inside free text (exception details, explanations, account
  names), leaving order numbers alone: a number counts as a phone only when it stands alone (no digit or
  letter right before or after it).

Every table the dashboards show goes through :func:`mask_cell`, so a phone number that turns up in a column
nobody expected to carry one is masked all the same.
"""

from __future__ import annotations

import re

MASK = "****"

# A mainland mobile number (11 digits, 1[3-9]…), optionally with +86 / 86, standing alone.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])((?:\+?86[ -]?)?1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9])")
# A landline with an area code (010, 021, 0571 …) and 7–8 digits, standing alone.
_LANDLINE = re.compile(r"(?<![0-9A-Za-z])(0\d{2,3})[ -]?\d{3,4}(\d{4})(?![0-9])")
_TITLE = re.compile(r"[（(][^）)]*[）)]")
# A Chinese personal name: 2–4 CJK characters, or parts joined by a middle dot (阿依古丽·买买提).
_CHINESE_NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,8}(?:·[\u4e00-\u9fff]{1,8})+)$")
_CJK = re.compile(r"^[\u4e00-\u9fff]{1,4}$")


def mask_text(text: str) -> str:
    """``text`` with every mobile and landline number in it masked."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-{MASK}{m.group(2)}", text)


def mask_phone(value: str | None) -> str | None:
    """A phone number as it may be shown; anything else (already masked, unknown format) keeps its digits
    only up to the last four."""
    if value is None:
        return None
    masked = mask_text(value)
    if masked != value or MASK in value or "*" in value:
        return masked
    digits = re.sub(r"\D", "", value)
    return MASK + digits[-4:] if len(digits) >= 7 else masked


def mask_name(value: str | None) -> str | None:
    """A person's name as it may be shown: first character, then one ``*`` per remaining character."""
    if value is None:
        return None
    name = _TITLE.sub("", value).strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)


def looks_like_name(value: str | None) -> bool:
    """True for a value that reads as a Chinese personal name (``王秀英``), not a code (``LD33``, ``SH001``)
    or an account number: columns that hold either (a statement's account) mask only the names."""
    if not value:
        return False
    bare = _TITLE.sub("", value).strip()
    if bare != value.strip():  # a title in brackets (梁(女士)): a surname alone is a name
        return bool(_CJK.match(bare))
    return bool(_CHINESE_NAME.match(bare))


def mask_cell(value: object) -> object:
    """What a table cell may show: strings have their phone numbers masked, other values pass unchanged."""
    return mask_text(value) if isinstance(value, str) else value
