"""Property-based (hypothesis) attacks on every channel adapter and every settlement statement parser:
real records from a simulated day, mutated with hostile values — nulls everywhere, numbers as strings and
strings as numbers, huge numbers and fields, SQL-looking text, emoji and control characters, dates in the
wrong format, nested junk, truncated JSON, arbitrary text. None may crash: every record ends either loaded
(and then meets the contract's invariants) or quarantined with a known reason and a message naming its file
and line, never both, never neither."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion import contract, settlements, warehouse
from ingestion.adapters import ADAPTERS
from ingestion.adapters.base import Catalogue
from ingestion.adapters.normalise import normalise
from ingestion.landing import discover
from ingestion.loader import run_batch
from ingestion.records import RawRecord, csv_records, decode_text, jsonl_records

RECEIVED = dt.datetime(2026, 11, 26, 4, 0, 0)
# summary_mismatch: a hostile edit to a bill's row makes WeChat Pay's own summary line disagree with the rows,
# which is exactly what that record reports (the rows still load).
RECORD_CODES = {
    "missing_field",
    "bad_value",
    "bad_phone",
    "unknown_sku",
    "unknown_store",
    "bad_quantity",
    "broken_json",
    "malformed_row",
    "not_an_order",
    "wrong_statement_date",
    "summary_mismatch",
}
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

HOSTILE_TEXT = [
    "",
    " ",
    "null",
    "None",
    "undefined",
    "'; DROP TABLE raw.orders; --",
    "1; DELETE FROM raw.quarantine",
    "Robert'); DROP TABLE students;--",
    "😀🍎👩‍👩‍👧‍👦",
    "张\u200b伟",
    "\u0000",
    "\t\n\r",
    "\\",
    '"',
    "{",
    "[]",
    "{}",
    "2026/11/26 11:00",
    "26-11-2026",
    "2026-13-45T25:61:61+08:00",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-0",
    "0x1F",
    "１２３",
    "9" * 40,
    "-5",
    "3.14159",
    "1,000.50",
    "¥12.50",
    "０.５",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(min_size=5000, max_size=20000).map(lambda s: s or "x"),  # huge fields
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=8), SCALARS, max_size=3))


@pytest.fixture(scope="module")
def samples(simulated_day):
    """The first few records of each channel's first file, and of each statement channel's first file."""
    landing, _ = simulated_day
    orders: dict[str, list[RawRecord]] = {}
    statements: dict[str, tuple[str, bytes]] = {}
    for file in discover(landing):
        if file.kind == "orders" and file.source not in orders:
            spec = ADAPTERS[file.source]
            text = decode_text(file.path.read_bytes(), file.relative)
            records = (
                csv_records(text, file.relative, spec.csv_header, spec.csv_key_column)
                if spec.file_format == "csv"
                else jsonl_records(text, file.relative)
            )
            orders[file.source] = list(records)[:4]
        if file.kind == "settlements" and file.source not in statements:
            statements[file.source] = (file.relative, file.path.read_bytes())
    assert set(orders) == set(ADAPTERS) and set(statements) == set(settlements.PARSERS)
    return orders, statements


@pytest.fixture(scope="module")
def catalogue(samples) -> Catalogue:
    """Every store and SKU of the samples is known, so only the hostile values decide the outcome."""
    products = pl.DataFrame(
        {
            "sku_id": [f"SKU{i:04d}" for i in range(1, 301)],
            "weight_g": [500] * 300,
            "volume_ml": [800] * 300,
            "temp_zone": ["ambient"] * 300,
        },
        schema={"sku_id": pl.String, "weight_g": pl.Int32, "volume_ml": pl.Int32, "temp_zone": pl.String},
    )
    return Catalogue(store_ids=frozenset(f"SH{i:03d}" for i in range(1, 9)), products=products)


# ---------------------------------------------------------------------------------------------------
# Mutations of a parsed JSON record (and of JSON carried as text inside it)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _paths(value, (*prefix, index))


def _set(obj, path, value):
    if not path:
        return value
    parent = obj
    for step in path[:-1]:
        parent = parent[step]
    if value is _DELETE:
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
        else:
            parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return obj


_DELETE = object()


@st.composite
def mutated_json(draw, text: str) -> str:
    try:
        obj = json.loads(text)
    except ValueError:  # text that only looks like JSON: replace it outright
        return draw(st.sampled_from(HOSTILE_TEXT))
    # JSON carried as text (Meituan detail/extras, Eleme message) is mutated inside, then re-encoded.
    embedded = [k for k, v in obj.items() if isinstance(v, str) and v[:1] in "[{"] if isinstance(obj, dict) else []
    if embedded and draw(st.booleans()):
        key = draw(st.sampled_from(embedded))
        inner = draw(mutated_json(obj[key]))
        obj[key] = inner
    else:
        for _ in range(draw(st.integers(1, 4))):
            paths = list(_paths(obj))
            path = draw(st.sampled_from(paths))
            action = draw(st.sampled_from(["value", "value", "delete", "stringify"]))
            if action == "delete" and path:
                obj = _set(obj, path, _DELETE)
            elif action == "stringify":
                current = obj
                for step in path:
                    current = current[step]
                obj = _set(
                    obj, path, json.dumps(current, ensure_ascii=False) if not isinstance(current, str) else current
                )
            else:
                obj = _set(obj, path, draw(VALUES))
    out = json.dumps(obj, ensure_ascii=False)
    if draw(st.integers(0, 5)) == 0:  # truncated in transit
        out = out[: draw(st.integers(0, max(len(out) - 1, 0)))]
    return out


@st.composite
def hostile_records(draw, originals: list[RawRecord], csv: bool) -> list[RawRecord]:
    out = []
    for line_no, original in enumerate(originals, start=1):
        kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "keep", "garbage"]))
        if kind == "garbage":
            text = draw(st.one_of(st.text(max_size=200), st.sampled_from(HOSTILE_TEXT)))
            rows = tuple(
                tuple(draw(st.lists(st.sampled_from(HOSTILE_TEXT), max_size=20)))
                for _ in range(draw(st.integers(1, 2)))
            )
        elif kind == "keep":
            text, rows = original.text, original.rows
        elif csv:
            rows = tuple(
                tuple(
                    draw(st.one_of(st.just(cell), st.sampled_from(HOSTILE_TEXT), st.text(max_size=30)))
                    for cell in (row if draw(st.integers(0, 6)) else row[: draw(st.integers(0, len(row)))])
                )
                for row in original.rows
            )
            text = "\n".join(",".join(row) for row in rows)
        else:
            text, rows = draw(mutated_json(original.text)), ()
        out.append(RawRecord(original.source_file, line_no * 10, text, rows if csv else ()))
    return out


def assert_every_record_accounted(batch, records: list[RawRecord]) -> None:
    origin = {(r.source_file, r.source_line) for r in records}
    loaded = set(zip(batch.orders["source_file"], batch.orders["source_line"], strict=True))
    rejected = list(zip(batch.quarantine["source_file"], batch.quarantine["source_line"], strict=True))
    assert len(rejected) == len(set(rejected)), "a record was quarantined twice"
    assert loaded.isdisjoint(rejected), "a record was both loaded and quarantined"
    assert loaded | set(rejected) == origin, "a record was lost (neither loaded nor quarantined)"
    for row in batch.quarantine.iter_rows(named=True):
        assert row["error_code"] in RECORD_CODES, row
        assert f"{row['source_file']} line {row['source_line']}" in row["message"], row


def assert_loaded_orders_meet_the_contract(batch, channel: str) -> None:
    orders = batch.orders
    if orders.height == 0:
        return
    assert orders.schema == pl.Schema(contract.ORDERS)
    assert set(orders["channel"]) == {channel}
    for column in (
        "order_key",
        "channel_order_id",
        "store_id",
        "created_at",
        "status",
        "fulfilment_type",
        "paid_amount",
    ):
        assert orders[column].null_count() == 0, column
    assert set(orders["status"]) <= set(contract.ORDER_STATUSES)
    assert set(orders["phone_kind"]) <= set(contract.PHONE_KINDS)
    for column in (
        "goods_amount",
        "merchant_discount",
        "platform_discount",
        "delivery_fee",
        "packaging_fee",
        "paid_amount",
    ):
        assert (orders[column] >= Decimal("0")).all(), (column, orders[column].to_list())
    coords = orders.filter(pl.col("lat").is_not_null())
    assert coords["lat"].is_between(3.8, 53.6).all() and coords["lng"].is_between(73.5, 135.1).all()
    lines = batch.lines
    assert lines["quantity"].null_count() == 0 and (lines["quantity"] > 0).all()
    assert lines["unit_price"].null_count() == 0 and (lines["unit_price"] >= Decimal("0")).all()
    assert set(lines["order_key"]) <= set(orders["order_key"])


@pytest.mark.parametrize("channel", sorted(ADAPTERS))
def test_adapter_survives_hostile_records(samples, catalogue, channel):
    """Hostile variants of a channel's real records: no exception, nothing lost or doubled, every rejection
    has a reason naming file and line, and whatever loads meets the contract."""
    originals = samples[0][channel]
    spec = ADAPTERS[channel]

    @FUZZ
    @given(records=hostile_records(originals, csv=spec.file_format == "csv"))
    def attack(records):
        batch = normalise(spec, records, catalogue, "b1", RECEIVED)
        assert_every_record_accounted(batch, records)
        assert_loaded_orders_meet_the_contract(batch, channel)

    attack()


@st.composite
def hostile_statement(draw, relative: str, data: bytes) -> bytes:
    lines = data.split(b"\n")
    action = draw(st.sampled_from(["cells", "cells", "truncate", "drop_line", "encoding", "empty", "garbage"]))
    if action == "truncate":
        return data[: draw(st.integers(0, len(data)))]
    if action == "empty":
        return b""
    if action == "garbage":
        return draw(st.binary(max_size=300))
    if action == "encoding":  # the other encoding than the channel's
        try:
            if relative.split("/")[1] == "alipay":
                return data.decode("gb18030").encode("utf-8")
            return data.decode("utf-8").encode("gbk", "replace")
        except UnicodeDecodeError:
            return data
    if action == "drop_line" and len(lines) > 2:
        index = draw(st.integers(0, len(lines) - 1))
        return b"\n".join(lines[:index] + lines[index + 1 :])
    index = draw(st.integers(0, len(lines) - 1))
    encoding = "gb18030" if relative.split("/")[1] == "alipay" else "utf-8"
    text = lines[index].decode(encoding, errors="replace")
    cells = text.split(",")
    cell = draw(st.integers(0, max(len(cells) - 1, 0)))
    cells[cell] = draw(st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20)))
    lines[index] = ",".join(cells).encode(encoding, errors="replace")
    return b"\n".join(lines)


@st.composite
def hostile_jsonl_statement(draw, data: bytes) -> bytes:
    records = data.decode("utf-8").splitlines()[:6]
    out = [draw(mutated_json(r)) if draw(st.booleans()) else r for r in records]
    return "\n".join(out).encode("utf-8")


def load_statement(channel: str, relative: str, payload: bytes):
    """Land one statement file in a fresh landing zone and run a real batch on an in-memory warehouse."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / relative
        path.parent.mkdir(parents=True)
        path.write_bytes(payload)
        con = warehouse.connect(":memory:")
        try:
            result = run_batch(con, Path(tmp))
            quarantine = con.execute(
                "SELECT source_file, source_line, error_code, message FROM raw.quarantine"
            ).fetchall()
            lines = con.execute("SELECT gross_amount, refund_amount, raw_hash FROM raw.settlement_lines").fetchall()
        finally:
            con.close()
    return result, quarantine, lines


@pytest.mark.parametrize("channel", sorted(settlements.PARSERS))
def test_statement_survives_hostile_files(samples, channel):
    """Hostile statements (cells replaced by hostile values, files truncated or emptied, lines dropped, the
    wrong encoding, arbitrary bytes, mutated JSON records) through a real batch: it commits, the statement's
    accounting balances, every rejection (a line, or the whole file) has a reason naming the file, and the
    lines that load keep the contract's signs (gross and refund never negative)."""
    relative, data = samples[1][channel]
    strategy = hostile_jsonl_statement(data) if channel in ("meituan", "eleme") else hostile_statement(relative, data)

    @FUZZ
    @given(payload=strategy)
    def attack(payload):
        result, quarantine, lines = load_statement(channel, relative, payload)
        counts = result.counts[f"settlement/{channel}"]
        assert counts.landed == counts.loaded + counts.quarantined + counts.duplicate
        assert counts.quarantined == len(quarantine) and counts.loaded == len(lines)
        for source_file, line, code, message in quarantine:
            assert source_file == relative and code and relative in message
            if line > 0:
                assert code in RECORD_CODES, (code, message)
        assert all(gross is None or gross >= 0 for gross, _, _ in lines)
        assert all(refund is None or refund >= 0 for _, refund, _ in lines)

    attack()
