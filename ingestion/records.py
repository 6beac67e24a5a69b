"""Splitting landing files into records, the unit that is loaded, quarantined or counted as a duplicate."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RawRecord:
    source_file: str
    source_line: int  # 1-based; for CSV the header is line 1 and a record's line is its first row
    text: str
    rows: tuple[tuple[str, ...], ...] = ()  # CSV records only: the parsed cells of each row

    @property
    def raw_hash(self) -> str:
        return hashlib.blake2b(self.text.encode("utf-8"), digest_size=16).hexdigest()


class RecordError(Exception):
    """A record that cannot be loaded: it goes to quarantine with this code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class FileError(Exception):
    """A whole file that cannot be split into records (wrong encoding, missing CSV header)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def decode_text(data: bytes, source_file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError(
            "bad_encoding",
            f"{source_file} is not UTF-8 (byte {exc.start}): re-export it as UTF-8",
        ) from exc


def physical_lines(text: str) -> list[str]:
    """The file's lines as a JSON-lines or CSV reader sees them: split at LF (a CRLF's CR dropped) and nowhere
    else. `str.splitlines` also splits at U+2028, U+0085 and other separators, which JSON allows unescaped
    inside a string: one valid record would become two broken ones, and every later line number would drift."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def jsonl_records(text: str, source_file: str) -> Iterator[RawRecord]:
    for line_no, line in enumerate(physical_lines(text), start=1):
        if line.strip():
            yield RawRecord(source_file, line_no, line)


def csv_records(text: str, source_file: str, expected_header: tuple[str, ...], key_column: str) -> Iterator[RawRecord]:
    """Group the CSV rows sharing `key_column` into one record (a ticket, a member's order).

    A row whose cell count does not match the header still joins its key's record when its first cells
    can be read, so the whole order is quarantined rather than loaded with a line missing.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = tuple(cell.strip() for cell in next(reader))
    except StopIteration:
        return
    if header != expected_header:
        missing = [c for c in expected_header if c not in header]
        raise FileError(
            "bad_header",
            f"{source_file} line 1: header does not match the channel's export "
            f"(missing {missing or 'none'}, got {len(header)} columns, expected {len(expected_header)})",
        )
    key_index = expected_header.index(key_column)
    lines = physical_lines(text)
    # A till may write a ticket's rows apart (interleaved lanes): rows join their key's record wherever they
    # are in the file, so no row becomes a second "version" that replaces the first. A row without a key
    # stays a record of its own (it is quarantined for the missing key).
    groups: dict[str, tuple[int, list[tuple[str, ...]], list[str]]] = {}
    keyless: list[tuple[int, list[tuple[str, ...]], list[str]]] = []
    last_line = reader.line_num
    for row in reader:
        # A quoted cell may hold a line break: the row then spans several physical lines, and it starts on
        # the first of them, which is the line a reader of the file looks for.
        line_no, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        key = row[key_index].strip() if len(row) > key_index else ""
        line_text = "\n".join(lines[line_no - 1 : last_line]) or ",".join(row)
        if not key:
            keyless.append((line_no, [tuple(row)], [line_text]))
            continue
        start, rows, texts = groups.setdefault(key, (line_no, [], []))
        rows.append(tuple(row))
        texts.append(line_text)
    records = sorted([*groups.values(), *keyless], key=lambda g: g[0])
    for start, rows, texts in records:
        yield RawRecord(source_file, start, "\n".join(texts), tuple(rows))
