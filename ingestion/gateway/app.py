"""The channel gateway: one endpoint per channel's native push, answered the way that channel expects.

Per request: the channel's rate limit (shared by every gateway worker through Redis), the channel's signature
(ingestion.gateway.protocols), the replay window on the push's own signed timestamp, then the intake
(reserve, append durably, answer). A ping (an empty request) and a GET on a platform's callback URL are the
platform checking the URL: answered its "ok" and nothing else. Redis being away is `unavailable` (503): every
channel retries that, and nothing was promised. Health and Prometheus metrics beside.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import RateLimiter, SlidingWindowCounterRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ingestion.gateway.intake import Answer, Intake
from ingestion.gateway.protocols import PROTOCOLS, Credentials, Push, PushRejected, WireRequest

# path → channel; Meituan posts paid orders and cancellations to two callback URLs.
ROUTES: dict[str, str] = {
    "/push/meituan/order": "meituan",
    "/push/meituan/cancel": "meituan",
    "/push/eleme": "eleme",
    "/push/app": "app",
    "/push/miniprogram": "miniprogram",
}
# The platforms check a callback URL with a GET and expect their "ok" (docs/live-intake-protocols.md, Replies:
# Meituan per the cnblogs integration note "美团推送的时候会有get请求", Eleme per its SDK's HttpServerDemo).
# Our own apps never GET their push URL.
URL_CHECKS: dict[str, str] = {path: channel for path, channel in ROUTES.items() if channel in ("meituan", "eleme")}
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


@dataclass(frozen=True)
class GatewaySettings:
    credentials: Mapping[str, Credentials]
    # A push signed longer ago than this (or this far in the future: clocks drift) is refused as a replay.
    replay_window_s: int = 300
    # Per channel, in the `limits` notation ("500/second"); a channel not named is not limited.
    rate_limits: Mapping[str, str] = field(default_factory=dict)
    # The base URL the platforms sign (their callback setting). Behind a proxy it differs from what we see.
    public_base_url: str | None = None
    # A push larger than this is refused before it is read whole: an order of a hundred lines is tens of KB, and a
    # signature is checked on the event loop, so an unbounded body would hold every other channel's push.
    max_body_bytes: int = 1 << 20


class _Batcher:
    """Hands the pushes waiting at one moment to the intake together, in one thread.

    The event loop verifies each push and submits it; this thread takes whatever has queued up (up to
    `max_batch`), applies the channels' rate limits and calls `Intake.take_many`, whose reading, reserving and
    appending cost per call, not per push. Under load batches grow by themselves; a lone push goes through
    alone. One thread doing the Redis round trips (rather than one per request) is also what keeps them from
    queueing for the interpreter lock behind each other.
    """

    def __init__(
        self, intake: Intake, limiter: RateLimiter, limits: dict[str, RateLimitItem], sizes: Histogram, max_batch=64
    ):
        self.intake, self.limiter, self.limits, self.max_batch = intake, limiter, limits, max_batch
        self.sizes = sizes
        self.queue: queue.Queue[tuple[Push, asyncio.AbstractEventLoop, asyncio.Future]] = queue.Queue()
        threading.Thread(target=self._run, name="intake-batcher", daemon=True).start()

    async def take(self, push: Push) -> Answer | None:
        """The intake's answer, or None when the channel is over its rate limit."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.queue.put((push, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            self.sizes.observe(len(batch))
            try:
                allowed = self._within_limits([push for push, _, _ in batch])
                taken = self.intake.take_many([push for (push, _, _), ok in zip(batch, allowed, strict=True) if ok])
                answers = iter(taken)
                results: list = [next(answers) if ok else None for ok in allowed]
            except Exception as error:  # noqa: BLE001 - every waiting request hears what went wrong
                for _, loop, future in batch:
                    loop.call_soon_threadsafe(_settle, future, None, error)
                continue
            for (_, loop, future), result in zip(batch, results, strict=True):
                loop.call_soon_threadsafe(_settle, future, result, None)

    def _within_limits(self, pushes: list[Push]) -> list[bool]:
        """Per channel, one hit of the batch's count; only when that would cross the limit, one push at a time."""
        allowed = [True] * len(pushes)
        by_channel: dict[str, list[int]] = {}
        for n, push in enumerate(pushes):
            if push.channel in self.limits:
                by_channel.setdefault(push.channel, []).append(n)
        for channel, indexes in by_channel.items():
            limit = self.limits[channel]
            if self.limiter.hit(limit, "gateway", channel, cost=len(indexes)):
                continue
            for n in indexes:
                allowed[n] = self.limiter.hit(limit, "gateway", channel)
        return allowed


def _settle(future: asyncio.Future, result: object, error: BaseException | None) -> None:
    if future.done():  # the request went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.pushes = Counter(
            "orderhub_gateway_pushes", "Pushes answered, by channel and answer code", ["channel", "code"],
            registry=self.registry,
        )  # fmt: skip
        self.seconds = Histogram(
            "orderhub_gateway_push_seconds", "Time to answer a push", ["channel"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip
        self.batch = Histogram(
            "orderhub_intake_batch_size", "Pushes handed to the intake together", registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64),
        )  # fmt: skip
        self.backlog = Gauge(
            "orderhub_intake_backlog", "Pushes in the intake log not yet landed", registry=self.registry
        )


def create_app(settings: GatewaySettings, intake: Intake) -> FastAPI:
    app = FastAPI(title="orderhub channel gateway", docs_url=None, redoc_url=None)
    metrics = _Metrics()
    limiter = SlidingWindowCounterRateLimiter(RedisStorage(_redis_uri(intake.client)))
    limits: dict[str, RateLimitItem] = {channel: parse(rule) for channel, rule in settings.rate_limits.items()}
    batcher = _Batcher(intake, limiter, limits, metrics.batch)

    async def handle(path: str, request: Request) -> Response:
        channel = ROUTES[path]
        protocol = PROTOCOLS[channel]
        started = time.perf_counter()

        def reply(code: str, payload: tuple[int, dict]) -> Response:
            metrics.pushes.labels(channel, code).inc()
            metrics.seconds.labels(channel).observe(time.perf_counter() - started)
            return JSONResponse(payload[1], status_code=payload[0])

        async def refuse(code: str, message: str, status: int) -> Response:
            # The counter is a blocking Redis call: off the event loop, which serves every other push meanwhile.
            try:
                await asyncio.to_thread(intake.counters.incr, channel, code)
            except REDIS_DOWN:
                pass
            return reply(code, protocol.refused(code, message, status))

        body = await _body_within(request, settings.max_body_bytes)
        if body is None:
            return await refuse("too_large", f"the body is over {settings.max_body_bytes} bytes", 413)
        base = (settings.public_base_url or str(request.base_url)).rstrip("/")
        wire = WireRequest(
            url=base + path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            content_type=request.headers.get("content-type", ""),
        )
        credentials = settings.credentials.get(channel)
        if credentials is None:
            return await refuse("unknown_app", f"no credentials configured for {channel}", 403)
        try:
            push = protocol.read(wire, credentials)
        except PushRejected as rejected:
            return await refuse(rejected.code, rejected.message, rejected.status)
        if push.kind == "ping":
            # The platform checking the URL: an unsigned ping carries no time (sent_at 0), so it is answered here,
            # before the replay window, and goes no further: a ping holds no order, so it can do nothing but this.
            return reply("ping", protocol.accepted())
        if abs(intake.clock() - push.sent_at) > settings.replay_window_s:
            return await refuse("expired", f"signed more than {settings.replay_window_s} s from now: a replay?", 401)
        try:
            answer = await batcher.take(push)
        except REDIS_DOWN as err:
            return reply("unavailable", protocol.refused("unavailable", f"intake store unavailable: {err}", 503))
        if answer is None:
            return await refuse("rate_limited", f"more than {limits[channel]} pushes", 429)
        if answer.accepted:
            return reply(answer.code, protocol.accepted())
        return reply(answer.code, protocol.refused(answer.code, answer.message, answer.status))

    def endpoint_for(path: str):
        async def endpoint(request: Request) -> Response:
            return await handle(path, request)

        return endpoint

    def url_check_for(path: str):
        channel = ROUTES[path]

        async def url_check() -> Response:
            metrics.pushes.labels(channel, "ping").inc()
            status, payload = PROTOCOLS[channel].accepted()
            return JSONResponse(payload, status_code=status)

        return url_check

    for path in ROUTES:
        app.add_api_route(path, endpoint_for(path), methods=["POST"], include_in_schema=False)
    for path in URL_CHECKS:
        app.add_api_route(path, url_check_for(path), methods=["GET"], include_in_schema=False)

    @app.get("/health")
    def health() -> Response:
        try:
            intake.client.ping()
            backlog = intake.log.backlog()
        except REDIS_DOWN as err:
            return JSONResponse({"status": "unavailable", "redis": str(err)}, status_code=503)
        return JSONResponse({"status": "ok", "backlog": backlog})

    @app.get("/metrics")
    def prometheus() -> Response:
        try:
            metrics.backlog.set(intake.log.backlog())
        except REDIS_DOWN:
            pass
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The body, or None once it is over `limit` bytes: by its Content-Length when declared, else as it streams."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _redis_uri(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
