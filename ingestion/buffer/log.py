"""The intake log's contract: what the gateway appends, what a consumer reads back, and what a broken entry is.

The gateway answers a channel only after `append` returned, so an implementation must return only once the
entry is durable. Consumers read at-least-once: an entry stays delivered-but-unacked until `ack`, and a
consumer that restarts gets its own unacked entries back first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

CHANNELS = ("app", "miniprogram", "meituan", "eleme")
FIELDS = ("channel", "business_date", "order_key", "record", "received_at_ms")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class MalformedEntry(ValueError):
    """An entry that cannot become a landing record; the message says which field and why."""


@dataclass(frozen=True)
class IntakeEntry:
    channel: str  # app | miniprogram | meituan | eleme
    business_date: str  # YYYY-MM-DD (Asia/Shanghai): the landing folder
    order_key: str
    record: str  # ONE line of the channel's landing format, exactly as the batch adapters read it
    received_at_ms: int

    def fields(self) -> dict[str, str]:
        return {
            "channel": self.channel,
            "business_date": self.business_date,
            "order_key": self.order_key,
            "record": self.record,
            "received_at_ms": str(self.received_at_ms),
        }


@dataclass(frozen=True)
class RejectedEntry:
    """A stored entry that is not a valid IntakeEntry: kept whole so it can be written out, never dropped."""

    fields: Mapping[str, str]
    reason: str


def entry_from_fields(fields: Mapping[str, str]) -> IntakeEntry:
    """Validate stored or incoming fields; the channel and date become folder names, so they are checked
    against fixed shapes (a channel of `../x` must never reach a path)."""
    missing = [name for name in FIELDS if name not in fields]
    if missing:
        raise MalformedEntry(f"missing field(s) {', '.join(missing)}")
    channel, date, record = fields["channel"], fields["business_date"], fields["record"]
    if channel not in CHANNELS:
        raise MalformedEntry(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if not _DATE.fullmatch(date):
        raise MalformedEntry(f"business_date {date!r} is not YYYY-MM-DD")
    if not record.strip():
        raise MalformedEntry("record is empty")
    # A landing file holds one record per line: an embedded newline would split one order into two bad lines.
    if "\n" in record or "\r" in record:
        raise MalformedEntry("record spans more than one line")
    if not fields["order_key"]:
        raise MalformedEntry("order_key is empty")
    try:
        received = int(fields["received_at_ms"])
    except (TypeError, ValueError):
        raise MalformedEntry(f"received_at_ms {fields['received_at_ms']!r} is not an integer") from None
    return IntakeEntry(channel, date, fields["order_key"], record, received)


def validated(entry: IntakeEntry) -> IntakeEntry:
    """Refuse a bad entry at the door (a gateway bug), rather than storing something no consumer can land."""
    return entry_from_fields(entry.fields())


class IntakeLog(Protocol):
    def append(self, entry: IntakeEntry) -> str:
        """Store the entry; return its id only once it is durable."""
        ...

    def append_many(self, entries: Sequence[IntakeEntry]) -> list[str]:
        """Store the entries in order; return their ids only once all are durable."""
        ...

    def read(self, consumer: str, count: int, block_ms: int) -> list[tuple[str, IntakeEntry | RejectedEntry]]:
        """This consumer's delivered-but-unacked entries first (after a crash), then new ones."""
        ...

    def ack(self, ids: Sequence[str]) -> None: ...

    def backlog(self) -> int:
        """Entries appended and not yet acked."""
        ...

    def claim_stale(self, consumer: str, min_idle_ms: int) -> int:
        """Give `consumer` the entries another consumer has held unacked for `min_idle_ms` (it died); they
        come back through `read` as its own. Returns how many. (On Kafka a rebalance does this: return 0.)"""
        ...
