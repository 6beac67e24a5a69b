"""Shared machinery of the statement parsers: a statement is split into records (one per detail or
summary line), each parsed into a `StatementLine` or rejected with a `RecordError`; file-level problems
(encoding, header, a truncated file, totals that disagree with the lines) raise `FileError`.

Each parser is a function `parse(data: bytes, source_file: str, statement_date: date) -> list[ParsedLine]`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import polars as pl

from ingestion import contract
from ingestion.records import FileError, RawRecord, RecordError

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
_LOCAL = ZoneInfo(contract.LOCAL_TIMEZONE)


@dataclass(frozen=True)
class StatementLine:
    """One statement line in contract terms (see contract.SETTLEMENT_LINES for the sign conventions)."""

    line_type: str
    channel_order_id: str | None = None
    order_key: str | None = None
    transaction_id: str | None = None
    refund_id: str | None = None
    store_id: str | None = None
    account_id: str | None = None
    tender: str | None = None
    summary_of: str | None = None  # contract.SETTLEMENT_LINES
    txn_count: int = 1
    gross_amount: Decimal | None = ZERO
    fee_amount: Decimal | None = ZERO
    net_amount: Decimal | None = ZERO
    refund_amount: Decimal | None = ZERO
    settled_at: dt.datetime | None = None


@dataclass(frozen=True)
class ParsedLine:
    record: RawRecord
    line: StatementLine | None
    error: RecordError | None = None
    # Set where one transaction is written differently in two of a channel's layouts that may land on the same
    # day (WeChat Pay's ALL and REFUND bills): the copies share it, so the second is a duplicate, where their
    # texts would both load. Unset, the line's text is what it is known by.
    identity: str | None = None

    @property
    def raw_hash(self) -> str:
        """The loader's duplicate key: the hash of the identity if there is one, else of the line's text; the same
        size either way, so both sit in settlement_lines.raw_hash."""
        if self.identity is None:
            return self.record.raw_hash
        return hashlib.blake2b(self.identity.encode("utf-8"), digest_size=16).hexdigest()


def parse_records(records: Iterable[RawRecord], parse_one: Callable[[RawRecord], StatementLine]) -> list[ParsedLine]:
    """Every record ends parsed or rejected with its reason; one bad line never stops the rest."""
    out: list[ParsedLine] = []
    for record in records:
        try:
            out.append(ParsedLine(record, parse_one(record)))
        except RecordError as err:
            out.append(ParsedLine(record, None, err))
    return out


# ---------------------------------------------------------------------------------------------------
# Values


def exact(text: str | None, what: str) -> Decimal:
    """An amount exactly as written (fees come with 5 decimals on WeChat bills); blank is an error."""
    cleaned = (text or "").strip().replace(",", "")
    if not cleaned:
        raise RecordError("missing_field", f"{what} is empty")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise RecordError("bad_value", f"{what} '{text}' is not an amount") from None
    if not value.is_finite():
        raise RecordError("bad_value", f"{what} '{text}' is not an amount")
    return value


def yuan(text: str | None, what: str) -> Decimal:
    """An amount in yuan, rounded half-up to the fen."""
    return exact(text, what).quantize(CENT, rounding=ROUND_HALF_UP)


def fen(value: object, what: str) -> Decimal:
    """An integer number of fen (Meituan's *Cent fields) as yuan."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise RecordError("missing_field" if value in (None, "") else "bad_value", f"{what} is missing")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError("bad_value", f"{what} '{value}' is not a number of fen") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise RecordError("bad_value", f"{what} '{value}' is not a whole number of fen")
    return (number / 100).quantize(CENT)


def required(value: object, what: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise RecordError("missing_field", f"{what} is empty")
    return text


_DEFAULT_TIME = "%Y-%m-%d %H:%M:%S"
# These formats with two-digit fields in ASCII digits (nearly every statement time) are read by hand, since
# strptime costs several microseconds a line; a value out of range fails in datetime() as it does in strptime.
_PLAIN_TIMES = {
    _DEFAULT_TIME: re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"),
}


def local_time(text: str | None, what: str, fmt: str = _DEFAULT_TIME) -> dt.datetime:
    """A local (Asia/Shanghai) wall-clock time as naive UTC, the contract's representation."""
    try:
        value = required(text, what)
        plain = _PLAIN_TIMES.get(fmt)
        if plain is not None and plain.fullmatch(value):
            local = dt.datetime(
                int(value[0:4]),
                int(value[5:7]),
                int(value[8:10]),
                int(value[11:13]),
                int(value[14:16]),
                int(value[17:19]),
            )
        else:
            local = dt.datetime.strptime(value, fmt)
    except ValueError:
        raise RecordError(
            "bad_value", f"{what} '{text}' is not a time like {dt.datetime(2026, 11, 26, 9, 30).strftime(fmt)}"
        ) from None
    return local.replace(tzinfo=_LOCAL).astimezone(dt.UTC).replace(tzinfo=None)


def epoch_time(value: object, what: str) -> dt.datetime:
    try:
        seconds = int(required(value, what))
    except ValueError:
        raise RecordError("bad_value", f"{what} '{value}' is not epoch seconds") from None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def same_day(text: str | None, what: str, statement_date: dt.date) -> None:
    """A line dated for another day than its statement's folder is in the wrong statement."""
    try:
        day = dt.date.fromisoformat(required(text, what))
    except ValueError:
        raise RecordError("bad_value", f"{what} '{text}' is not a date like 2026-11-26") from None
    if day != statement_date:
        raise RecordError(
            "wrong_statement_date",
            f"{what} {day} does not match the statement's day {statement_date} (its landing folder): "
            "move the line to that day's statement",
        )


def check_totals(source_file: str, what: str, stated: Decimal | int, counted: Decimal | int) -> None:
    if stated != counted:
        raise FileError(
            "statement_totals_mismatch",
            f"{source_file}: the statement's summary says {what} {stated} but its lines add up to {counted}; "
            "the file is incomplete or edited: fetch the statement from the channel again",
        )


# ---------------------------------------------------------------------------------------------------
# Frames for the loader

_COLUMNS = [f.name for f in fields(StatementLine)]


def frames(
    channel: str, statement_date: dt.date, parsed: list[ParsedLine], label: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(settlement lines typed to the contract without batch_id, quarantine rows in staging columns)."""
    rows, rejected = [], []
    for item in parsed:
        rec = item.record
        if item.line is None:
            assert item.error is not None
            rejected.append(
                {
                    "channel": label,
                    "source_file": rec.source_file,
                    "source_line": rec.source_line,
                    "raw": rec.text,
                    "error_code": item.error.code,
                    "message": f"{rec.source_file} line {rec.source_line}: {item.error.message}",
                }
            )
            continue
        rows.append(
            {
                "channel": channel,
                "statement_date": statement_date,
                **{name: getattr(item.line, name) for name in _COLUMNS},
                "source_file": rec.source_file,
                "source_line": rec.source_line,
                "raw_hash": item.raw_hash,
            }
        )
    schema = {k: v for k, v in contract.SETTLEMENT_LINES.items() if k != "batch_id"}
    return pl.DataFrame(rows, schema=schema), pl.DataFrame(rejected, schema=contract.QUARANTINE_STAGING)
