"""Decoding a JSON-lines record, with JSON-inside-JSON as the platforms send it."""

from __future__ import annotations

from typing import Any

import orjson

from ingestion.records import RawRecord, RecordError


def loads(text: str, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RecordError("broken_json", f"{what} is not valid JSON ({exc})") from exc


def record_object(record: RawRecord) -> dict[str, Any]:
    value = loads(record.text, "the line")
    if not isinstance(value, dict):
        raise RecordError("broken_json", "the line is JSON but not an object")
    return value


def embedded(value: Any, what: str, default: Any) -> Any:
    """A field that carries JSON as text (Meituan's detail, Eleme's message); blank means default."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if not isinstance(value, str):
        return value
    return loads(value, what)
