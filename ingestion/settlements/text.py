"""Reading CSV-like statements line by line: decoding, cells, the header check."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from ingestion.records import FileError, RawRecord, RecordError, physical_lines


@dataclass(frozen=True)
class Row:
    line_no: int  # 1-based physical line
    text: str  # the line as decoded
    cells: tuple[str, ...]

    def record(self, source_file: str) -> RawRecord:
        return RawRecord(source_file, self.line_no, self.text, (self.cells,))


def decode(data: bytes, source_file: str, encodings: tuple[str, ...], expected: str) -> list[str]:
    """The file's lines in the first encoding that decodes it and shows `expected` (a header cell), split as a CSV
    reader splits them (`records.physical_lines`): a cell may hold U+2028 or U+0085, which are not row ends."""
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if expected in text:
            return physical_lines(text)
    raise FileError(
        "bad_encoding",
        f"{source_file}: cannot read it as {' or '.join(encodings)} with a '{expected}' column: "
        "save the statement exactly as the channel delivered it",
    )


def rows(lines: list[str], start: int = 0) -> Iterator[Row]:
    """Non-blank lines from index `start`, split into cells (a statement row never spans lines)."""
    for index in range(start, len(lines)):
        text = lines[index]
        if not text.strip():
            continue
        cells = next(csv.reader([text]), [])
        yield Row(index + 1, text, tuple(cells))


def expect_header(row: Row | None, header: tuple[str, ...], source_file: str, clean=str.strip) -> None:
    got = tuple(clean(c) for c in row.cells) if row else ()
    if got != header:
        missing = [c for c in header if c not in got]
        where = f"line {row.line_no}" if row else "end of file"
        raise FileError(
            "bad_header",
            f"{source_file} {where}: header does not match the channel's statement "
            f"(missing {missing or 'none'}, got {len(got)} columns, expected {len(header)})",
        )


def named(row: Row, header: tuple[str, ...], clean) -> dict[str, str]:
    if len(row.cells) != len(header):
        raise RecordError(
            "malformed_row", f"the line has {len(row.cells)} cells, the statement has {len(header)} columns"
        )
    return {name: clean(cell) for name, cell in zip(header, row.cells, strict=True)}
