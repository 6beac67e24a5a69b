"""Address parsing is cached by its inputs for the process: a cached answer is the answer a cold parse gives,
including where the order's point picks among districts of the same name."""

from __future__ import annotations

import polars as pl

from ingestion import addresses

TEXTS = [
    "上海市浦东新区碧波路690号3号楼2单元501室",
    "鼓楼区中山路100号5栋201",  # four cities have a 鼓楼区: the point decides
    "鼓楼区中山路100号5栋201",
    "碧波路690号 (3号楼2单元501室)",
    "",
    None,
]
FALLBACKS = [None, None, None, "上海市浦东新区碧波路690号", None, None]
# Nanjing's 鼓楼区, then Fuzhou's: the same text, two doors.
LATS = [31.2, 32.066, 26.08, 31.2, None, None]
LNGS = [121.6, 118.77, 119.29, 121.6, None, None]


def _parse(order: list[int]) -> pl.DataFrame:
    pick = lambda values: pl.Series([values[i] for i in order], dtype=pl.String)  # noqa: E731
    floats = lambda values: pl.Series([values[i] for i in order], dtype=pl.Float64)  # noqa: E731
    return addresses.parse_addresses(pick(TEXTS), pick(FALLBACKS), floats(LATS), floats(LNGS))


def test_warm_cache_answers_as_a_cold_parse():
    addresses.clear_caches()
    cold = _parse(list(range(len(TEXTS))))
    warm = _parse(list(range(len(TEXTS))))
    assert warm.equals(cold)
    hits, _ = addresses.cache_stats()["row"]
    assert hits >= 4  # every non-blank row of the second parse came from the cache
    addresses.clear_caches()
    backwards = list(reversed(range(len(TEXTS))))
    assert _parse(backwards).reverse().equals(cold)  # whichever row filled the cache first


def test_the_point_still_picks_the_same_name_district():
    addresses.clear_caches()
    parsed = _parse(list(range(len(TEXTS))))
    nanjing, fuzhou = parsed["admin_code"][1], parsed["admin_code"][2]
    assert nanjing != fuzhou, "the cache must not hand one point's district to another point"
