"""Pushing signed orders at a gateway as the platforms do: many at once, at a set pace, retrying what failed.

A reply is one of three things. Acknowledged: 2xx with the channel's ok body. Refused: the gateway said no
for a reason of its own (out of stock, bad signature: a 4xx, or a 2xx whose body is not ok); the platform
would not send it again. Not delivered: no answer, a 5xx, 429 or 503; the platforms retry those with backoff,
and so does this client, until the push's deadline.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

import httpx
import orjson

from .wire import WirePush

# httpcore tries `import sniffio` on every request; when it is not installed each failed try scans sys.path,
# which cost 0.8 ms of CPU per push here (298 → 512 acked/s when cached). Caching "not installed" changes
# nothing else: the import fails either way.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_BACKOFF_FIRST_S = 0.05
_BACKOFF_MAX_S = 2.0
_REQUEST_TIMEOUT_S = 10.0


@dataclass
class LoadReport:
    target: str
    concurrency: int
    rate: float | None
    acked: list[tuple[str, str]] = field(default_factory=list)  # (channel, order key)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, order key, code)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, order key, last error)
    latencies: list[float] = field(default_factory=list)  # seconds, every request that got an answer
    # (channel, file:line, reason) of landing lines no platform could have posted: filled in by the caller
    # that built the pushes (wire_pushes' `unbuildable`), so the report holds every record of the run.
    unbuildable: list[tuple[str, str, str]] = field(default_factory=list)
    attempts: int = 0
    started_at: float = 0.0
    ended_at: float = 0.0

    @property
    def pushes(self) -> int:
        return len(self.acked) + len(self.refused) + len(self.failed)

    @property
    def elapsed_s(self) -> float:
        return max(self.ended_at - self.started_at, 1e-9)

    @property
    def acked_per_s(self) -> float:
        return len(self.acked) / self.elapsed_s

    @property
    def p50(self) -> float | None:
        return _quantile(self.latencies, 0.50)

    @property
    def p99(self) -> float | None:
        return _quantile(self.latencies, 0.99)

    def summary(self) -> str:
        ms = lambda s: "-" if s is None else f"{s * 1000:.1f} ms"  # noqa: E731
        return (
            f"{self.pushes:,} pushes in {self.elapsed_s:.1f} s: {len(self.acked):,} acked, {len(self.refused):,} "
            f"refused, {len(self.failed):,} failed after retries; {self.acked_per_s:,.1f} acked/s; "
            f"{self.attempts - self.pushes:,} retries; p50 {ms(self.p50)}, p99 {ms(self.p99)}"
        )

    def to_json(self) -> bytes:
        data = asdict(self)
        data.update(pushes=self.pushes, acked_per_s=self.acked_per_s, p50_s=self.p50, p99_s=self.p99)
        return orjson.dumps(data, option=orjson.OPT_INDENT_2)


async def push_all(
    pushes: Iterable[WirePush],
    target: str,
    concurrency: int = 32,
    rate: float | None = None,
    deadline_s: float = 30.0,
    max_seconds: float | None = None,
    client: httpx.AsyncClient | None = None,
) -> LoadReport:
    """Send every push (at most `concurrency` in flight, about `rate` started per second when given).

    A push that gets no answer is retried with backoff until `deadline_s` after its first try. With
    `max_seconds`, no new push is started after that long; the rest of `pushes` is left unread.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if not target.startswith(("http://", "https://")):
        raise ValueError(f"target {target!r} is not an http(s) URL")
    if rate is not None and rate <= 0:
        raise ValueError("rate must be positive (or None for as fast as possible)")
    report = LoadReport(target=target, concurrency=concurrency, rate=rate)
    own = client is None
    if own:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        client = httpx.AsyncClient(base_url=target, limits=limits, timeout=_REQUEST_TIMEOUT_S)
    slots = asyncio.Semaphore(concurrency)
    heard = _LastAnswer(time.monotonic())
    tasks: set[asyncio.Task] = set()
    report.started_at = time.time()
    start = time.monotonic()
    try:
        iterator: Iterator[WirePush] = iter(pushes)
        for n in _count():
            if max_seconds is not None and time.monotonic() - start >= max_seconds:
                break
            if rate is not None:
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            await slots.acquire()
            push = next(iterator, None)  # built (and signed) only now, just before it is sent
            if push is None:
                slots.release()
                break
            task = asyncio.create_task(_deliver(client, push, deadline_s, report, heard))
            tasks.add(task)
            task.add_done_callback(lambda t: (tasks.discard(t), slots.release()))
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        if tasks:  # the pushes iterator failed mid-run: let what is in flight finish before closing
            await asyncio.gather(*tasks, return_exceptions=True)
        if own:
            await client.aclose()
        report.ended_at = time.time()
    return report


async def ramp(
    pushes: Iterable[WirePush],
    target: str,
    rates: list[float],
    seconds_each: float,
    concurrency: int = 64,
    deadline_s: float = 30.0,
) -> list[LoadReport]:
    """One report per rate: `seconds_each` of pushes at each rate in turn, over one keep-alive connection pool."""
    iterator = iter(pushes)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    reports = []
    async with httpx.AsyncClient(base_url=target, limits=limits, timeout=_REQUEST_TIMEOUT_S) as client:
        for r in rates:
            reports.append(await push_all(iterator, target, concurrency, r, deadline_s, seconds_each, client))
    return reports


@dataclass
class _LastAnswer:
    """When the gateway last answered anything: once it has been silent for a whole deadline it is down, and
    the pushes still queued fail at their first error instead of each waiting out a deadline of its own."""

    at: float


async def _deliver(
    client: httpx.AsyncClient, push: WirePush, deadline_s: float, report: LoadReport, heard: _LastAnswer
) -> None:
    give_up_at = time.monotonic() + deadline_s
    for attempt in _count():
        if attempt and push.resign is not None:
            push = push.resign()  # the first signature may have gone stale while the gateway was down
        report.attempts += 1
        sent = time.monotonic()
        try:
            reply = await client.post(push.path, content=push.body, headers=push.headers)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}".rstrip(": ")
        else:
            heard.at = time.monotonic()
            report.latencies.append(heard.at - sent)
            if reply.status_code not in _RETRY_STATUSES:
                _settle(push, reply, report)
                return
            problem = f"http_{reply.status_code}"
        pause = min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2**attempt) * random.uniform(0.5, 1.0)
        if time.monotonic() + pause > min(give_up_at, heard.at + deadline_s):
            report.failed.append((push.channel, push.order_key, problem))
            return
        await asyncio.sleep(pause)


def _settle(push: WirePush, reply: httpx.Response, report: LoadReport) -> None:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if 200 <= reply.status_code < 300 and _is_ok(push.channel, body):
        report.acked.append((push.channel, push.order_key))
    else:
        report.refused.append((push.channel, push.order_key, _refusal_code(reply.status_code, body)))


def _is_ok(channel: str, body: object) -> bool:
    # Each platform's documented acknowledgement: Meituan {"data":"ok"}, Eleme {"message":"ok"}, ours {"ok":true}.
    if not isinstance(body, dict):
        return False
    if channel == "meituan":
        return body.get("data") == "ok"
    if channel == "eleme":
        return body.get("message") == "ok"
    return body.get("ok") is True


def _refusal_code(status: int, body: object) -> str:
    if isinstance(body, dict):
        for key in ("code", "error", "message", "data"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("code") or value.get("msg")
            if value not in (None, "", "ok"):
                return str(value)
    return f"http_{status}"


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _count() -> Iterator[int]:
    n = 0
    while True:
        yield n
        n += 1
