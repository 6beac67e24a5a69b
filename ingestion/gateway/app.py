"""The channel gateway: one endpoint per channel's native push, answered the way that channel expects.

Per request: the channel's rate limit (shared by every gateway worker through Redis), the channel's signature
(ingestion.gateway.protocols), the replay window on the push's own signed timestamp, then the intake
(reserve, append durably, answer). Redis being away is `unavailable` (503): every channel retries that, and
nothing was promised. Health and Prometheus metrics beside.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.concurrency import run_in_threadpool

from ingestion.gateway.intake import Intake
from ingestion.gateway.protocols import PROTOCOLS, Credentials, PushRejected, WireRequest

# path → channel; Meituan posts paid orders and cancellations to two callback URLs.
ROUTES: dict[str, str] = {
    "/push/meituan/order": "meituan",
    "/push/meituan/cancel": "meituan",
    "/push/eleme": "eleme",
    "/push/app": "app",
    "/push/miniprogram": "miniprogram",
}
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
        self.backlog = Gauge(
            "orderhub_intake_backlog", "Pushes in the intake log not yet landed", registry=self.registry
        )


def create_app(settings: GatewaySettings, intake: Intake) -> FastAPI:
    app = FastAPI(title="orderhub channel gateway", docs_url=None, redoc_url=None)
    metrics = _Metrics()
    storage = RedisStorage(_redis_uri(intake.client))
    limiter = SlidingWindowCounterRateLimiter(storage)
    limits: dict[str, RateLimitItem] = {channel: parse(rule) for channel, rule in settings.rate_limits.items()}

    def handle(path: str, body: bytes, request: Request) -> Response:
        channel = ROUTES[path]
        protocol = PROTOCOLS[channel]
        started = time.perf_counter()

        def reply(code: str, payload: tuple[int, dict]) -> Response:
            metrics.pushes.labels(channel, code).inc()
            metrics.seconds.labels(channel).observe(time.perf_counter() - started)
            return JSONResponse(payload[1], status_code=payload[0])

        def refuse(code: str, message: str, status: int) -> Response:
            try:
                intake.counters.incr(channel, code)
            except REDIS_DOWN:
                pass
            return reply(code, protocol.refused(code, message, status))

        try:
            limit = limits.get(channel)
            if limit is not None and not limiter.hit(limit, "gateway", channel):
                return refuse("rate_limited", f"more than {limit} pushes", 429)
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
                return refuse("unknown_app", f"no credentials configured for {channel}", 403)
            try:
                push = protocol.read(wire, credentials)
            except PushRejected as rejected:
                return refuse(rejected.code, rejected.message, rejected.status)
            if abs(intake.clock() - push.sent_at) > settings.replay_window_s:
                return refuse("expired", f"signed more than {settings.replay_window_s} s from now: a replay?", 401)
            answer = intake.take(push)
        except REDIS_DOWN as err:
            return reply("unavailable", protocol.refused("unavailable", f"intake store unavailable: {err}", 503))
        if answer.accepted:
            return reply(answer.code, protocol.accepted())
        return reply(answer.code, protocol.refused(answer.code, answer.message, answer.status))

    def endpoint_for(path: str):
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            # The intake talks to Redis synchronously: keep it off the event loop.
            return await run_in_threadpool(handle, path, body, request)

        return endpoint

    for path in ROUTES:
        app.add_api_route(path, endpoint_for(path), methods=["POST"], include_in_schema=False)

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


def _redis_uri(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
