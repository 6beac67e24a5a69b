"""POS ticket rows are grouped by ticket key wherever they sit in the file."""

from __future__ import annotations

from ingestion.adapters.pos import HEADER
from ingestion.records import csv_records


def _row(ticket: str, sku: str) -> str:
    return ",".join([ticket, "S1", "01", "c1", "2026-12-01 10:00:00", "", sku, "n", "1", "2.00", "2.00", "0",
                     "2.00", "现金", "成交"])


def test_interleaved_ticket_rows_form_one_record_each() -> None:
    text = "\n".join([",".join(HEADER), _row("T1", "A"), _row("T2", "B"), _row("T1", "C"), _row("T2", "D")])
    records = list(csv_records(text, "f.csv", HEADER, "小票号"))
    assert [(r.source_line, [row[6] for row in r.rows]) for r in records] == [(2, ["A", "C"]), (3, ["B", "D"])]
