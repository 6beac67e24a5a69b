"""Chinese address parsing: province / city / district / street / detail, an admin code and a merge key.

`cpca` does the administrative part (it carries the national division table and resolves short forms
like 浦东新区 without a province); it is vectorised over pandas and parses 30k addresses in well under a
second. See docs/decisions.md for the comparison with jionlp and addressparser. What cpca leaves as the
remainder is split into the township (街道/镇/乡) when present and the rest.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import polars as pl

# Municipalities: cpca reports their city level as 市辖区/县; the contract wants the city's own name.
_MUNICIPALITY_CITY_PLACEHOLDERS = {"市辖区", "县"}
_TOWNSHIP = re.compile(r"^(.{1,10}?(?:街道|镇|乡))")
_ROAD = re.compile(r"^(.{1,12}?(?:大道|路|街|巷|胡同|弄|道))")
_KEY_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)

PARSED_COLUMNS = ("province", "city", "district", "street", "address_detail", "admin_code", "address_key")


def _cpca_transform(addresses: list[str]):
    # cpca imports jieba-era code that emits noisy warnings at import; they say nothing about our data.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import cpca

        return cpca.transform(addresses)


def normalise_for_key(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: 3号楼 2单元 == 3号楼2单元."""
    return _KEY_NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _split_remainder(remainder: str) -> tuple[str | None, str]:
    township = _TOWNSHIP.match(remainder)
    if township:
        return township.group(1), remainder[township.end():]
    road = _ROAD.match(remainder)
    return (road.group(1) if road else None), remainder


def parse_addresses(addresses: pl.Series) -> pl.DataFrame:
    """Parse a series of raw addresses; returns one row per input row, columns PARSED_COLUMNS.

    Unparseable addresses (no recognisable district) get nulls, which downstream raises as a
    bad-address exception instead of guessing.
    """
    unique = [a for a in addresses.drop_nulls().unique().to_list() if a.strip()]
    parsed: dict[str, tuple] = {}
    if unique:
        frame = _cpca_transform(unique)
        for raw, province, city, district, remainder, adcode in zip(
            unique, frame["省"], frame["市"], frame["区"], frame["地址"], frame["adcode"], strict=True
        ):
            if not isinstance(district, str) or not isinstance(adcode, str):
                continue
            if city in _MUNICIPALITY_CITY_PLACEHOLDERS or not isinstance(city, str):
                city = province
            remainder = remainder if isinstance(remainder, str) else ""
            street, detail = _split_remainder(remainder)
            key = f"{adcode}|{normalise_for_key(detail)}" if detail else None
            parsed[raw] = (province, city, district, street, detail or None, adcode, key)
    empty = (None,) * len(PARSED_COLUMNS)
    rows = [parsed.get(a, empty) if a is not None else empty for a in addresses.to_list()]
    return pl.DataFrame(rows, schema={c: pl.String for c in PARSED_COLUMNS}, orient="row")
