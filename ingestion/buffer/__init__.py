"""The durable intake buffer: the log the gateway appends accepted pushes to, and the consumer that turns it
into landing files (docs/live-intake-buffer.md)."""

from ingestion.buffer.landing_writer import LandingWriter
from ingestion.buffer.log import CHANNELS, IntakeEntry, IntakeLog, MalformedEntry, RejectedEntry
from ingestion.buffer.redis_streams import NotDurable, RedisStreamLog

__all__ = [
    "CHANNELS",
    "IntakeEntry",
    "IntakeLog",
    "LandingWriter",
    "MalformedEntry",
    "NotDurable",
    "RedisStreamLog",
    "RejectedEntry",
]
