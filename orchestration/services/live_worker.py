"""The gateway's worker: three loops in one process, each restartable without losing anything.

- the landing writer drains the intake log into micro-batch files (acked only once a file is durable);
- the stock sync applies each new WMS count and movement file to the reservation ledger;
- the stock feed publisher pushes every change of what a channel may sell back to that channel.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import httpx
import redis

from ingestion.buffer.landing_writer import LandingWriter
from ingestion.buffer.redis_streams import RedisStreamLog
from ingestion.gateway.catalogue import product_categories
from ingestion.gateway.stock_sync import StockSync
from ingestion.stock.feed import AllocationRules, StockFeedPublisher
from ingestion.stock.reservations import StockLedger
from orchestration import rules as rules_file
from orchestration.services.live_config import LiveIntakeConfig

log = logging.getLogger("orderhub.live.worker")
STOCK_SYNC_SECONDS = 2.0
# One file per channel and day about every second: fresh enough for the sensor, few enough files for the loader.
LANDING_SECONDS = 1.0


def allocation_rules(config: LiveIntakeConfig) -> AllocationRules:
    """The channel stock feed's rules (config/rules.yml), the same the nightly feed table is built from."""
    rules = rules_file.load(config.rules)
    return AllocationRules(
        safety_stock_units=int(rules.get("safety_stock_units", 0)),
        safety_stock_by_category=dict(rules.get("safety_stock_by_category") or {}),
        sku_category=product_categories(config.landing),
        channels=tuple(rules.get("stock_feed_channels") or ()),
        channel_allocation=dict(rules.get("channel_allocation") or {"default": {"mode": "shared"}}),
    )


def senders(config: LiveIntakeConfig, client: redis.Redis) -> dict[str, Callable[[dict], None]]:
    """Per channel: POST to its stock API when a URL is configured, else keep the request in Redis to inspect."""
    urls = config.gateway_rules().get("stock_push_urls") or {}
    http = httpx.Client(timeout=5.0)
    kept = f"{config.namespace}:stock:pushed"

    def post(url: str) -> Callable[[dict], None]:
        def send(request: dict) -> None:
            http.post(url, json=request).raise_for_status()

        return send

    def keep(channel: str) -> Callable[[dict], None]:
        def send(request: dict) -> None:
            body = json.dumps(request, ensure_ascii=False, default=str)
            client.xadd(kept, {"channel": channel, "request": body}, maxlen=10_000, approximate=True)

        return send

    channels = allocation_rules(config).channels
    return {channel: post(urls[channel]) if channel in urls else keep(channel) for channel in channels}


def _loop(name: str, stop: threading.Event, step: Callable[[], object], idle_s: float = 0.0) -> None:
    """Run `step` until stopped; a failing step (Redis restarting, a full disk) is logged and retried."""
    while not stop.is_set():
        try:
            step()
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as error:
            log.warning("%s: Redis unavailable (%s); retrying in 1 s", name, error)
            stop.wait(1.0)
            continue
        except Exception:  # noqa: BLE001 - the loop outlives any one failure; the log says which
            log.exception("%s failed; retrying in 1 s", name)
            stop.wait(1.0)
            continue
        if idle_s:
            stop.wait(idle_s)


def run_worker(config: LiveIntakeConfig, stop: threading.Event, consumer: str = "worker-1") -> None:
    client = redis.Redis.from_url(config.redis_url, socket_timeout=10, health_check_interval=10)
    writer = LandingWriter(RedisStreamLog(client, stream=f"{config.namespace}:intake"), config.landing, consumer)
    sync = StockSync(StockLedger(client, config.namespace), config.landing)
    publisher = StockFeedPublisher(client, allocation_rules(config), senders(config, client), config.namespace)
    latencies = f"{config.namespace}:stock:feed_latency_ms"

    def publish() -> None:
        """Push what changed; keep the last 10,000 reservation-to-update latencies for the benchmark and ops."""
        published = publisher.drain_once(500)
        if published:
            pipe = client.pipeline(transaction=False)
            pipe.lpush(latencies, *(p.latency_ms for p in published))
            pipe.ltrim(latencies, 0, 9_999)
            pipe.execute()

    threads = [
        threading.Thread(
            target=_loop, args=("landing writer", stop, lambda: writer.drain_once(500), LANDING_SECONDS), daemon=True
        ),
        threading.Thread(target=_loop, args=("stock sync", stop, sync.poll, STOCK_SYNC_SECONDS), daemon=True),
        threading.Thread(target=_loop, args=("stock feed", stop, publish), daemon=True),
    ]
    for thread in threads:
        thread.start()
    while not stop.is_set():
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=10)
