"""Till exports are an append-only journal: a ticket's rows may continue in a later file, or be exported again.

The loader calls `accumulated` for channels whose adapter says `versions == "accumulate"` (POS): each record
becomes the ticket so far, so a later file's rows are more rows of the same ticket rather than a new version
that would replace it.
"""

from __future__ import annotations

import csv
import io

import duckdb

from ingestion import contract
from ingestion.records import RawRecord

RAW = contract.RAW_SCHEMA


def accumulated(con: duckdb.DuckDBPyConnection, spec, records: list[RawRecord]) -> list[RawRecord]:
    """Till tickets whose rows continue in a later file: each record becomes the ticket so far (the rows of
    the version in `orders`, then of earlier records in this batch) plus its rows not already among them.

    A till export is an append-only journal, so a row is never taken back by a later file; a row identical
    to one already applied is the same journal row exported again (an overlapping re-export), not a second
    sale. So a record that adds nothing gets exactly the applied text, and with it the applied raw_hash: it
    is a duplicate, never a smaller version replacing the ticket. A row equal to an applied one but for its
    status (the ticket voided after it was exported) is that row with its new status, not one more line.
    """
    key_index = spec.csv_header.index(spec.csv_key_column)
    status_index = spec.csv_header.index(spec.csv_status_column) if spec.csv_status_column else None

    def order_key(record: RawRecord) -> str | None:
        key = record.rows[0][key_index].strip() if record.rows and len(record.rows[0]) > key_index else ""
        return f"{spec.channel}:{key}" if key else None

    def sans_status(row: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(c.strip() for i, c in enumerate(row) if i != status_index)

    keys = sorted({k for k in map(order_key, records) if k})
    if not keys:
        return records
    applied = dict(
        con.execute(
            # The keys filter both sides: on `orders` alone DuckDB would join against the whole history,
            # raw text included (seconds at a month of orders, tens of milliseconds this way).
            f"SELECT h.order_key, h.raw FROM {RAW}.orders o JOIN {RAW}.order_history h USING (order_key, raw_hash) "
            "WHERE o.order_key IN (SELECT unnest(?)) AND h.order_key IN (SELECT unnest(?)) AND h.raw IS NOT NULL",
            [keys, keys],
        ).fetchall()
    )
    so_far: dict[str, tuple[list[str], list[tuple[str, ...]]]] = {
        key: (text.split("\n"), [tuple(row) for row in csv.reader(io.StringIO(text))]) for key, text in applied.items()
    }
    out: list[RawRecord] = []
    for record in records:
        key = order_key(record)
        if key is None or len(record.text.split("\n")) != len(record.rows):  # a quoted line break: leave it whole
            out.append(record)
            continue
        if key not in so_far:
            so_far[key] = (record.text.split("\n"), list(record.rows))
            out.append(record)
            continue
        texts, rows = list(so_far[key][0]), list(so_far[key][1])
        unmatched = list(range(len(texts)))  # applied rows not yet matched by a row of this record
        for line_text, row in zip(record.text.split("\n"), record.rows, strict=False):
            same = next((i for i in unmatched if texts[i] == line_text), None)
            if same is None and status_index is not None:
                same = next((i for i in unmatched if sans_status(rows[i]) == sans_status(row)), None)
            if same is None:
                texts.append(line_text)
                rows.append(row)
                continue
            unmatched.remove(same)
            texts[same], rows[same] = line_text, row
        so_far[key] = (texts, rows)
        out.append(RawRecord(record.source_file, record.source_line, "\n".join(texts), tuple(rows)))
    return out
