"""Text as platforms hand it over: form-encoded values and free text with markup, tabs and emoji."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import unquote_plus

# What an x-www-form-urlencoded value may contain after encoding: anything else means it was never encoded
# (a decoded address can hold "1+2=3", which must not become "1 2=3").
_ENCODED_VALUE = re.compile(r"[A-Za-z0-9%+\-._~*!'()]*")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u00a0\u2000-\u200b\u3000]+")
_SPACES = re.compile(r" {2,}")


def form_decoded(value: str, max_rounds: int = 3) -> str:
    """A value as the form posted it, percent-decoded while it still looks encoded.

    Some integrations store the push exactly as received (values still URL-encoded, `+` for spaces), some
    decode it first; a value re-encoded by a relay decodes in a second round (`%255B` → `%5B` → `[`).
    """
    if "%" not in value:  # nearly every value: no escape to look for
        return value
    for _ in range(max_rounds):
        if not _PERCENT_ESCAPE.search(value) or not _ENCODED_VALUE.fullmatch(value):
            break
        value = unquote_plus(value)
    return value


# Names of goods, recipients and remarks repeat across a day's orders; the result depends on the text alone.
@lru_cache(maxsize=65536)
def cleaned(value: str | None) -> str | None:
    """Free text for display and parsing: HTML entities resolved, tabs and odd spaces made plain spaces.

    Emoji are kept: they are valid text and belong to what the customer wrote.
    """
    if value is None:
        return None
    out = _CONTROL.sub(" ", html.unescape(value))
    out = _SPACES.sub(" ", out).strip()
    return out or None
