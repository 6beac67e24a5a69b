"""The big screen's live strip reads, straight from Redis, exactly what the gateway's counters wrote (the key
layout is the contract between them: the dashboards import nothing of ours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboards.queries.intake_counters import fetch_intake_counters
from dashboards.views.live import intake_table
from ingestion.stock.counters import LiveCounters
from orchestration.services.redis_server import free_port


def test_the_strip_shows_what_the_counters_wrote(redis_server, redis_client):
    now = datetime(2026, 11, 26, 4, 30, 20, tzinfo=UTC)
    counters = LiveCounters(redis_client)
    counters.incr("meituan", "orders", 3, at=now)
    counters.incr("app", "orders", 2, at=now - timedelta(minutes=5))
    counters.incr("app", "refused_short", 1, at=now - timedelta(minutes=5))
    counters.incr("eleme", "orders", 7, at=now - timedelta(minutes=20))  # outside the window
    shown = fetch_intake_counters(redis_server.url, now_s=now.timestamp())
    assert shown.last_minute == {"orders": 3}
    assert shown.window == {"orders": 5, "refused_short": 1}
    assert shown.by_channel == {"meituan": {"orders": 3}, "app": {"orders": 2, "refused_short": 1}}
    table = intake_table(shown, "en")
    assert len(table) == 2 and table["Orders"].sum() == 5


def test_no_redis_no_strip():
    assert fetch_intake_counters(f"redis://127.0.0.1:{free_port()}/0") is None
