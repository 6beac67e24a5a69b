"""What the address rules make of a fixed set of texts, pinned to the rules' edition.

Keys are stored as orders are loaded, and a warehouse re-keys its stored orders only when
`addresses.KEY_RULES_VERSION` moves (ingestion/address_rekey.py). A change to the rules, or an upgrade of cpca
or OpenCC, that changes what any text parses to without moving the edition would leave every warehouse with
two kinds of key for one door. The texts are the labelled pairs' (tests/ingestion/fixtures/address_pairs.csv):
every form the rules were written for, and Meituan's typed@#reverse texts.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import polars as pl

from ingestion.addresses import KEY_RULES_VERSION, parse_addresses, split_reverse_geocoded

FIXTURE = Path(__file__).parent / "fixtures" / "address_pairs.csv"
# (edition, digest of every parsed column of every text): when the test fails, its message says what to pin.
PINNED = (2, "6d899dda6a17bf7d5356a709f11fb29085c18174df7e71887d585b03e8e80f7b")


def _parsed_digest() -> str:
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        pairs = list(csv.DictReader(fh))
    texts, lats, lngs = [], [], []
    for pair in pairs:
        for side in ("a", "b"):
            texts.append(pair[side])
            lats.append(float(pair[f"lat_{side}"]) if pair[f"lat_{side}"].strip() else None)
            lngs.append(float(pair[f"lng_{side}"]) if pair[f"lng_{side}"].strip() else None)
    split = [split_reverse_geocoded(t) for t in texts]
    typed = pl.Series([t.strip() or r.strip() for t, r in split], dtype=pl.String)
    reverse = pl.Series([r.strip() or None for _, r in split], dtype=pl.String)
    parsed = parse_addresses(typed, reverse, pl.Series(lats, dtype=pl.Float64), pl.Series(lngs, dtype=pl.Float64))
    rows = json.dumps(parsed.rows(), ensure_ascii=False)
    return hashlib.sha256(rows.encode()).hexdigest()


def test_what_the_texts_parse_to_changes_only_with_the_rules_edition():
    found = _parsed_digest()
    assert (KEY_RULES_VERSION, found) == PINNED, (
        f"the labelled texts parse to digest {found} under edition {KEY_RULES_VERSION}, pinned {PINNED}. "
        "If the rules changed what a text parses to, raise KEY_RULES_VERSION in ingestion/addresses.py (stored "
        f"orders are then keyed again) and pin ({KEY_RULES_VERSION} + 1, the digest) here. If only the fixture "
        "changed (a pair added), pin the digest under the same edition."
    )
