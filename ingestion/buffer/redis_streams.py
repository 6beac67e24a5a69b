"""The intake log on a Redis Stream with one consumer group.

Why it is durable: the server runs `appendonly yes` with `appendfsync always`, and Redis writes and fsyncs
the AOF in `beforeSleep`, before it writes any reply ("we are required to write the AOF before replying to
the client", redis/redis src/aof.c, flushAppendOnlyFile). So XADD's reply means the entry is on disk; the
constructor checks the server is configured that way instead of trusting it.

Acked entries are deleted (XACK and XDEL in one MULTI) rather than trimmed by XTRIM MINID: with several
consumers, acks arrive out of stream order, so the only safe MINID is the oldest entry still pending or not
yet delivered, and one slow consumer would then hold every later acked entry in memory. XDEL removes exactly
what was landed; Redis frees a stream node once all its entries are deleted. It also makes XLEN the backlog.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from ingestion.buffer.log import IntakeEntry, MalformedEntry, RejectedEntry, entry_from_fields, validated


class NotDurable(RuntimeError):
    """The server would acknowledge appends it could still lose."""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


class RedisStreamLog:
    """IntakeLog on a stream (`stream`) read by one consumer group (`group`)."""

    def __init__(
        self, client: redis.Redis, stream: str = "oh:intake", group: str = "landing", *, require_fsync: bool = True
    ) -> None:
        self.client, self.stream, self.group = client, stream, group
        if require_fsync:
            self._check_durable()
        self._ensure_group()

    def _check_durable(self) -> None:
        config = {_text(k): _text(v) for k, v in self.client.config_get("append*").items()}
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            raise NotDurable(
                f"redis at {self._where()} runs appendonly={config.get('appendonly')} "
                f"appendfsync={config.get('appendfsync')}: an acknowledged order could be lost in a crash. "
                "Start it with --appendonly yes --appendfsync always (orchestration/services/redis_server.py does)."
            )
        policy = _text(self.client.config_get("maxmemory-policy").get("maxmemory-policy", "noeviction"))
        # allkeys-* may evict any key when memory runs out, the stream included; volatile-* only keys with a TTL.
        if policy.startswith("allkeys"):
            raise NotDurable(
                f"redis at {self._where()} runs maxmemory-policy={policy}: it may evict the intake stream. "
                "Use noeviction (appends then fail loudly when memory is full) or a volatile-* policy."
            )

    def _where(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"

    def _ensure_group(self) -> None:
        try:
            # From id 0: entries appended before the group existed are landed too.
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def append(self, entry: IntakeEntry) -> str:
        """XADD; its reply comes after the AOF fsync, so the returned id is durable."""
        return _text(self.client.xadd(self.stream, validated(entry).fields()))

    def append_many(self, entries: Sequence[IntakeEntry]) -> list[str]:
        """Several XADDs in one round trip: one AOF fsync covers them all, which is what lets a busy gateway
        append durably at the rate it reserves."""
        if not entries:
            return []
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            pipe.xadd(self.stream, validated(entry).fields())
        return [_text(entry_id) for entry_id in pipe.execute()]

    def read(self, consumer: str, count: int, block_ms: int) -> list[tuple[str, IntakeEntry | RejectedEntry]]:
        # Own pending entries first (id 0): after a crash they come back in the same order and the same
        # batches, so the writer re-creates the same file names.
        pending = self._read_group(consumer, count, "0", None)
        if pending:
            return pending
        return self._read_group(consumer, count, ">", block_ms if block_ms > 0 else None)

    def _read_group(self, consumer, count, start, block) -> list[tuple[str, IntakeEntry | RejectedEntry]]:
        try:
            reply = self.client.xreadgroup(self.group, consumer, {self.stream: start}, count=count, block=block)
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # The stream key was deleted (FLUSHDB, a manual DEL): recreate the group and read what is there.
            self._ensure_group()
            reply = self.client.xreadgroup(self.group, consumer, {self.stream: start}, count=count, block=block)
        messages = reply.get(self.stream, reply.get(self.stream.encode(), [])) if isinstance(reply, dict) else None
        if messages is None:
            messages = reply[0][1] if reply else []
        return [(_text(entry_id), self._parse(fields)) for entry_id, fields in messages]

    @staticmethod
    def _parse(fields) -> IntakeEntry | RejectedEntry:
        if fields is None:
            # A pending entry whose body was deleted (XDEL by hand): the id is all that is left.
            return RejectedEntry({}, "entry was deleted from the stream while still pending")
        decoded = {_text(k): _text(v) for k, v in fields.items()}
        try:
            return entry_from_fields(decoded)
        except MalformedEntry as error:
            return RejectedEntry(decoded, str(error))

    def ack(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, *ids)
            pipe.xdel(self.stream, *ids)
            pipe.execute()

    def backlog(self) -> int:
        """Acked entries are deleted, so what the stream still holds is exactly what is not acked."""
        return int(self.client.xlen(self.stream))

    def claim_stale(self, consumer: str, min_idle_ms: int, count: int = 1000) -> int:
        """Take over entries another consumer was given and has not acked for `min_idle_ms` (it died); they
        then come back through `read` as this consumer's own pending entries. Returns how many were taken.

        `min_idle_ms` must exceed the longest time a live consumer needs between read and ack, or a slow
        consumer and its claimer both land the same entries."""
        claimed, cursor = 0, "0-0"
        while True:
            # Not JUSTID: redis-py then drops the cursor from the reply, and a long pending list needs it.
            reply = self.client.xautoclaim(self.stream, self.group, consumer, min_idle_ms, cursor, count=count)
            cursor = _text(reply[0])
            claimed += len(reply[1])
            if cursor == "0-0" or claimed >= count:
                return claimed
