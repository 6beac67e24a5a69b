"""Settlement statement parsers, one per statement format, over shared code (`base`, `text`).

    parse(channel, data, source_file, statement_date) -> list[ParsedLine]

raises `FileError` for a file that cannot be read as that channel's statement (wrong encoding or header, a
truncated download, totals that disagree with the lines); a bad line comes back with its `RecordError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ingestion.records import FileError
from ingestion.settlements import alipay, platforms, sheets, wechatpay
from ingestion.settlements.base import ParsedLine, StatementLine, frames

Parser = Callable[[bytes, str, dt.date], list[ParsedLine]]

PARSERS: dict[str, Parser] = {
    "meituan": platforms.parse_meituan,
    "eleme": platforms.parse_eleme,
    "wechatpay": wechatpay.parse,
    "alipay": alipay.parse,
    "pos": sheets.parse_pos,
    "groupbuy": sheets.parse_groupbuy,
}


def parse(channel: str, data: bytes, source_file: str, statement_date: str | dt.date) -> list[ParsedLine]:
    parser = PARSERS.get(channel)
    if parser is None:
        raise FileError(
            "unknown_channel",
            f"{source_file}: no statement parser for channel {channel!r} (known: {', '.join(PARSERS)})",
        )
    if isinstance(statement_date, str):
        try:
            statement_date = dt.date.fromisoformat(statement_date)
        except ValueError:
            raise FileError(
                "bad_folder", f"{source_file}: the folder '{statement_date}' is not a date like 2026-11-26"
            ) from None
    return parser(data, source_file, statement_date)


__all__ = ["PARSERS", "ParsedLine", "StatementLine", "frames", "parse"]
