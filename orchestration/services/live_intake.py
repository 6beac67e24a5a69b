"""The live intake wired from settings: the gateway app, and the worker that lands the log, keeps the ledger in
step with the WMS files and pushes stock back to the channels.

Two processes (`orderhub gateway api`, `orderhub gateway worker`; `orderhub gateway up` starts both and a
redis-server when none answers): the API answers channels and must never wait on a disk full of landing files,
and either can be killed and restarted without the other losing anything (docs/live-intake.md).
"""

from __future__ import annotations

import logging

import redis
from fastapi import FastAPI

from ingestion.buffer.redis_streams import RedisStreamLog
from ingestion.gateway.app import GatewaySettings, create_app
from ingestion.gateway.catalogue import load_catalogue
from ingestion.gateway.intake import Intake
from ingestion.gateway.protocols import load_credentials
from ingestion.gateway.stock_sync import StockSync
from ingestion.stock.counters import LiveCounters
from ingestion.stock.reservations import StockLedger
from orchestration.services.live_config import SECRETS_ENV, LiveIntakeConfig

log = logging.getLogger("orderhub.live")


def client(config: LiveIntakeConfig) -> redis.Redis:
    return redis.Redis.from_url(config.redis_url, socket_timeout=5, health_check_interval=10)


def build_intake(config: LiveIntakeConfig, redis_client: redis.Redis) -> Intake:
    gateway = config.gateway_rules()
    short = dict(gateway.get("short_stock") or {})
    default = short.pop("default", "refuse")
    channels = ("app", "miniprogram", "meituan", "eleme")
    return Intake(
        client=redis_client,
        ledger=StockLedger(redis_client, config.namespace),
        log=RedisStreamLog(redis_client, stream=f"{config.namespace}:intake"),
        counters=LiveCounters(redis_client, config.namespace),
        catalogue=load_catalogue(config.landing),
        short_stock={channel: short.get(channel, default) for channel in channels},
        namespace=config.namespace,
    )


def create_gateway_app(config: LiveIntakeConfig) -> FastAPI:
    """The app, with the ledger loaded from the latest WMS counts and movements in the landing zone."""
    if config.secrets is None:
        raise SystemExit(f"no channel credentials: set {SECRETS_ENV} to a JSON file (docs/live-intake.md)")
    redis_client = client(config)
    intake = build_intake(config, redis_client)
    StockSync(intake.ledger, config.landing).poll()
    gateway = config.gateway_rules()
    settings = GatewaySettings(
        credentials=load_credentials(config.secrets),
        replay_window_s=int(gateway.get("replay_window_seconds", 300)),
        max_body_bytes=int(gateway.get("max_body_bytes", 1 << 20)),
        rate_limits=dict(gateway.get("rate_limits") or {}),
        public_base_url=config.public_base_url,
    )
    return create_app(settings, intake)
