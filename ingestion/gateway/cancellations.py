"""A channel's order record turned into the same order cancelled, in that channel's own landing format.

Two things need it. Platforms announce a cancellation with the order id alone (Meituan's cancel push, Eleme's
cancel and refund messages), while the batch adapters read whole orders: the gateway keeps each order's last
record and lands it again with the channel's cancelled status. And an order the gateway refuses for want of stock
is landed as placed-then-cancelled, so the warehouse sees the demand it could not serve and holds nothing for it.
The cancelled status code is read from each adapter's own status map (Meituan `9`, Eleme `invalid`, our apps
`cancelled`), so the two cannot disagree.

The cancel's status time must rank it after the version it cancels: the warehouse applies an order's latest
version by the channel's status time (ingestion/order_versions.py `_VERSION_ORDER`), and a platform's clock can
be ahead of ours (the replay window allows it). So the cancel is stamped no earlier than one whole second after
the record's own status time: every format holds whole seconds at least, and a tie would be settled by arrival.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from zoneinfo import ZoneInfo

from ingestion.adapters import ADAPTERS
from ingestion.contract import LOCAL_TIMEZONE
from ingestion.gateway.reading import record_status_time

_LOCAL = ZoneInfo(LOCAL_TIMEZONE)


def _cancelled_code(channel: str) -> str:
    return next(code for code, status in ADAPTERS[channel].status_map.items() if status == "cancelled")


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _app(record: str, at: dt.datetime) -> str:
    order = json.loads(record)
    order["status"] = _cancelled_code("app")
    order["updated_at"] = at.astimezone(_LOCAL).isoformat(timespec="seconds")
    return _dumps(order)


def _miniprogram(record: str, at: dt.datetime) -> str:
    order = json.loads(record)
    order["status"] = _cancelled_code("miniprogram")
    order["updated_at"] = int(at.timestamp())
    return _dumps(order)


def _meituan(record: str, at: dt.datetime) -> str:
    fields = json.loads(record)
    fields["status"] = _cancelled_code("meituan")
    fields["utime"] = str(int(at.timestamp()))
    return _dumps(fields)


def _eleme(record: str, at: dt.datetime) -> str:
    envelope = json.loads(record)
    if "message" in envelope:
        message = envelope["message"]
        order = json.loads(message) if isinstance(message, str) else dict(message)
        order["status"] = _cancelled_code("eleme")
        envelope["message"] = _dumps(order)
        envelope["timestamp"] = int(at.timestamp() * 1000)
        return _dumps(envelope)
    envelope["status"] = _cancelled_code("eleme")  # a bare OOrder line: the adapter reads it too
    return _dumps(envelope)


CANCELLED: dict[str, Callable[[str, dt.datetime], str]] = {
    "app": _app,
    "miniprogram": _miniprogram,
    "meituan": _meituan,
    "eleme": _eleme,
}


def as_cancelled(channel: str, record: str, at: dt.datetime) -> str:
    """The same order, cancelled at `at` or, when the record's own status time is not before it, one second after
    that time (in whole seconds), as one line of the channel's landing format."""
    last = record_status_time(ADAPTERS[channel], record)
    if last is not None:
        after_last = last.replace(microsecond=0) + dt.timedelta(seconds=1)
        at = max(at, after_last)
    return CANCELLED[channel](record, at)
