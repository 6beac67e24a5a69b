"""The gateway reads an order's stock facts in plain Python; the batch path reads the whole order with polars.
On every record of a simulated day (bad ones included) they must agree: the same key, store, time, status and
units for every order the batch path loads, and a record the gateway takes but the batch path quarantines only
for a reason that is not a stock fact (its address, phone or amounts), never silently."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import _utc_time, normalise
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.gateway.catalogue import load_catalogue
from ingestion.gateway.reading import Unreadable, channel_time, read_order
from ingestion.records import RawRecord

# Why the batch path may quarantine an order whose stock facts are fine (see ingestion/gateway/reading.py).
NOT_STOCK_FACTS = ("no address", "no phone", "phone '", "amount", "is not a number", "negative", "fulfilment")


@pytest.fixture(scope="module")
def catalogue(simulated_day) -> Catalogue:
    return load_catalogue(simulated_day[0])


@pytest.mark.parametrize("channel", ["app", "miniprogram", "meituan", "eleme"])
def test_the_gateway_reads_what_the_batch_path_loads(simulated_day, catalogue, channel):
    landing, _ = simulated_day
    spec = ADAPTERS[channel]
    records = [
        RawRecord(path.name, n, line)
        for path in sorted((landing / "orders" / channel).glob("*/*"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip()
    ]
    batch = normalise(spec, records, catalogue, "b", dt.datetime(2026, 11, 27))
    units = batch.lines.group_by("source_file", "source_line", "sku_id").agg(pl.col("quantity").sum())
    lines: dict[tuple, dict[str, int]] = {}
    for source_file, source_line, sku, quantity in units.iter_rows():
        lines.setdefault((source_file, source_line), {})[sku] = int(quantity)
    loaded = {(o["source_file"], o["source_line"]): o for o in batch.orders.iter_rows(named=True)}
    quarantined = {(q["source_file"], q["source_line"]): q for q in batch.quarantine.iter_rows(named=True)}
    stores = frozenset(catalogue.store_ids)
    skus = frozenset(catalogue.products["sku_id"].to_list())
    taken_but_quarantined = []
    for record in records:
        where = (record.source_file, record.source_line)
        try:
            read = read_order(spec, record.text, stores, skus)
        except Unreadable:
            assert where not in loaded, f"{where}: the batch path loads an order the gateway cannot read"
            continue
        if where in quarantined:
            taken_but_quarantined.append(quarantined[where]["message"])
            continue
        order = loaded[where]
        assert read.order_key == order["order_key"] and read.store_id == order["store_id"]
        assert read.created_at.replace(tzinfo=None) == order["created_at"]
        assert read.cancelled == (order["status"] == "cancelled")
        assert read.lines == lines[where]
        # The status time ranks an order's versions in the warehouse: the gateway ranks them by the same value.
        assert (read.status_at and read.status_at.replace(tzinfo=None)) == order["updated_at"]
    assert len(loaded) > 100
    strays = [m for m in taken_but_quarantined if not any(reason in m for reason in NOT_STOCK_FACTS)]
    assert not strays, strays[:5]


@pytest.mark.parametrize(
    ("channel", "value"),
    [
        ("app", "2026-11-26T11:32:30+08:00"), ("app", "2026-11-26T03:32:30Z"), ("app", "2026-11-26 11:32:30+08:00"),
        ("app", "2026-11-26T11:32:30.250+08:00"), ("app", "2026-11-26T11:32:30"), ("app", "yesterday"),
        ("app", "1999-12-31T23:59:59+00:00"), ("miniprogram", "1795657925"), ("miniprogram", "0"),
        ("miniprogram", "17956579250000"), ("meituan", "1795657925"), ("meituan", "1.5"),
        ("eleme", "2026-11-26 11:32:30"), ("eleme", "2026-11-26T11:32:30"), ("eleme", "26/11/2026"), ("eleme", ""),
    ],
)  # fmt: skip
def test_a_status_time_reads_as_the_batch_normaliser_reads_it(channel, value):
    spec = ADAPTERS[channel]
    batch = pl.DataFrame({"t": [value]}).select(_utc_time("t", spec.time_format, LOCAL_TIMEZONE)).item()
    ours = channel_time(spec, value)
    assert (ours and ours.replace(tzinfo=None)) == batch
