"""An order record turned into the same order cancelled is read, by the batch path's own adapter, as that order
cancelled at that time, with everything else unchanged (the gateway lands it for cancel notices and refusals)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.adapters import ADAPTERS
from ingestion.gateway.cancellations import as_cancelled
from ingestion.gateway.reading import record_status_time
from ingestion.records import RawRecord

AT = dt.datetime(2026, 11, 26, 5, 30, 15, tzinfo=dt.UTC)


@pytest.mark.parametrize("channel", ["app", "miniprogram", "meituan", "eleme"])
def test_a_cancelled_record_is_the_same_order_cancelled(simulated_day, channel):
    landing, _ = simulated_day
    first_file = sorted((landing / "orders" / channel).glob("*/*"))[0]
    record = first_file.read_text(encoding="utf-8").splitlines()[0]
    spec = ADAPTERS[channel]
    before = spec.extract(RawRecord("f", 1, record))
    after = spec.extract(RawRecord("f", 1, as_cancelled(channel, record, AT)))

    assert spec.status_map[after.order["status"]] == "cancelled"
    assert after.lines == before.lines
    unchanged = {k: v for k, v in before.order.items() if k not in ("status", "status_time")}
    assert {k: after.order[k] for k in unchanged} == unchanged
    # The status time is the cancellation's, in the channel's own time format.
    stamp = after.order["status_time"]
    assert stamp in {"2026-11-26T13:30:15+08:00", str(int(AT.timestamp())), "2026-11-26 13:30:15"}, stamp


@pytest.mark.parametrize("channel", ["app", "miniprogram", "meituan", "eleme"])
def test_a_cancel_ranks_after_the_version_it_cancels_even_when_that_ones_clock_was_ahead(simulated_day, channel):
    """The warehouse applies an order's newest status time; a cancel stamped by our clock alone would lose to a
    last version whose platform clock runs ahead. It is stamped at least one whole second after that version."""
    landing, _ = simulated_day
    first_file = sorted((landing / "orders" / channel).glob("*/*"))[0]
    record = first_file.read_text(encoding="utf-8").splitlines()[0]
    spec = ADAPTERS[channel]
    last = record_status_time(spec, record)
    assert last is not None, "the simulated records state their status time"

    behind = as_cancelled(channel, record, last - dt.timedelta(minutes=2))
    stamped = record_status_time(spec, behind)
    assert spec.status_map[spec.extract(RawRecord("f", 1, behind)).order["status"]] == "cancelled"
    assert stamped == last.replace(microsecond=0) + dt.timedelta(seconds=1)
    # Our clock, when it is the later one, still stamps the cancel.
    later = last + dt.timedelta(hours=1)
    assert record_status_time(spec, as_cancelled(channel, record, later)) == later.replace(microsecond=0)
