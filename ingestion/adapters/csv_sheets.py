"""Reading a multi-row CSV record (a till ticket, a group-buy member order) as named cells."""

from __future__ import annotations

from ingestion.adapters.base import text
from ingestion.records import RawRecord, RecordError


def named_rows(record: RawRecord, header: tuple[str, ...]) -> list[dict[str, str | None]]:
    rows = []
    for offset, cells in enumerate(record.rows):
        if len(cells) != len(header):
            raise RecordError(
                "malformed_row",
                f"row {offset + 1} of the record has {len(cells)} cells, the export has {len(header)} columns",
            )
        rows.append({name: text(cell) for name, cell in zip(header, cells, strict=True)})
    return rows


def yuan_sum(rows: list[dict[str, str | None]], amount: str, times: str | None = None) -> str | None:
    """Σ amount (× times) over rows, as text; None when any cell is empty or not a number."""
    total = 0.0
    for row in rows:
        try:
            value = float(row[amount] or "")
            if times is not None:
                value *= float(row[times] or "")
        except ValueError:
            return None
        total += value
    return f"{total:.2f}"


def difference(a: str | None, b: str | None) -> str | None:
    try:
        return f"{float(a or '') - float(b or ''):.2f}"
    except ValueError:
        return None
