"""The gateway end to end in one process (FastAPI's test client) against a real redis-server: signatures,
the replay window, rate limits, idempotency, all-or-nothing reservation, release on cancel, and what each
channel hears."""

from __future__ import annotations

import json
import time

import pytest
import redis

from ingestion.buffer.redis_streams import RedisStreamLog
from ingestion.gateway.catalogue import load_catalogue
from ingestion.gateway.intake import Intake
from ingestion.gateway.signatures import sign_own
from ingestion.gateway.stock_sync import StockSync
from ingestion.stock.counters import LiveCounters
from ingestion.stock.reservations import StockLedger
from tests.live.gateway_fixtures import (
    SECRETS,
    STORE,
    app_order,
    gateway,
    meituan_order,
    miniprogram_order,
    post_app,
    post_meituan,
    write_reference,
)


@pytest.fixture
def intake(redis_client, tmp_path):
    write_reference(tmp_path)
    ledger = StockLedger(redis_client)
    StockSync(ledger, tmp_path).poll()
    return Intake(
        client=redis_client,
        ledger=ledger,
        log=RedisStreamLog(redis_client, stream="oh:intake"),
        counters=LiveCounters(redis_client),
        catalogue=load_catalogue(tmp_path),
        short_stock={"app": "refuse", "miniprogram": "accept", "meituan": "refuse", "eleme": "refuse"},
    )


def held(intake, sku: str) -> int:
    return intake.ledger.position(STORE, sku)["held"]


def logged(intake) -> int:
    return intake.client.xlen("oh:intake")


def test_a_signed_order_is_reserved_logged_and_acknowledged(intake):
    client = gateway(intake)
    reply = post_app(client, app_order("APP1", {"SKU0001": 2}))
    assert (reply.status_code, reply.json()) == (200, {"ok": True})
    assert held(intake, "SKU0001") == 2 and logged(intake) == 1


def test_bad_signature_and_expired_push_are_refused_and_hold_nothing(intake):
    client = gateway(intake, replay_window_s=300)
    bad = post_app(client, app_order("APP1", {"SKU0001": 1}), secret="not-the-secret")
    old = post_app(client, app_order("APP2", {"SKU0001": 1}), at=time.time() - 3600)
    ahead = post_app(client, app_order("APP3", {"SKU0001": 1}), at=time.time() + 3600)
    assert (bad.status_code, bad.json()["code"]) == (401, "bad_signature")
    assert (old.status_code, old.json()["code"]) == (401, "expired")
    assert (ahead.status_code, ahead.json()["code"]) == (401, "expired")
    assert held(intake, "SKU0001") == 0 and logged(intake) == 0


def test_the_same_push_twice_and_a_replayed_request_are_taken_once(intake):
    client = gateway(intake)
    body = app_order("APP1", {"SKU0001": 2})
    at = time.time()
    first, replayed, resigned = post_app(client, body, at=at), post_app(client, body, at=at), post_app(client, body)
    assert [r.status_code for r in (first, replayed, resigned)] == [200, 200, 200]
    assert held(intake, "SKU0001") == 2 and logged(intake) == 1


def test_rate_limit_per_channel(intake):
    client = gateway(intake, rate_limits={"app": "3/minute"})
    codes = [post_app(client, app_order(f"APP{i}", {"SKU0001": 1})).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    other = post_meituan(client, "/push/meituan/order", meituan_order("MT1", {"SKU0002": 1}))
    assert other.status_code == 200, "another channel's limit is its own"


def test_all_lines_or_none_and_our_app_hears_out_of_stock(intake):
    client = gateway(intake)
    reply = post_app(client, app_order("APP1", {"SKU0001": 1, "SKU0002": 4}))
    assert (reply.status_code, reply.json()["code"]) == (409, "out_of_stock")
    assert held(intake, "SKU0001") == 0 and held(intake, "SKU0002") == 0
    # Landed placed-then-cancelled: the warehouse sees the demand and holds nothing for it.
    assert logged(intake) == 2


def test_a_platform_order_short_of_stock_is_acknowledged_and_queued_for_cancel(intake):
    client = gateway(intake)
    reply = post_meituan(client, "/push/meituan/order", meituan_order("MT1", {"SKU0002": 5}))
    assert (reply.status_code, reply.json()) == (200, {"data": "ok"})
    assert held(intake, "SKU0002") == 0
    [(_, refusal)] = intake.client.xrange("oh:refusals")
    assert refusal["order_key"] == "meituan:MT1" and refusal["reason"] == "out_of_stock"


def test_a_channel_that_accepts_short_stock_holds_it_all(intake):
    client = gateway(intake)
    reply = post_app(client, miniprogram_order("MP1", {"SKU0001": 5}), channel="miniprogram")
    assert (reply.status_code, reply.json()) == (200, {"ok": True})
    assert held(intake, "SKU0001") == 5  # the warehouse shows 2 oversold and raises out_of_stock


def test_cancel_releases_and_a_platform_cancel_push_needs_only_the_order_id(intake):
    client = gateway(intake)
    post_app(client, app_order("APP1", {"SKU0001": 2}))
    post_app(client, app_order("APP1", {"SKU0001": 2}, status="cancelled"))
    assert held(intake, "SKU0001") == 0
    post_meituan(client, "/push/meituan/order", meituan_order("MT1", {"SKU0002": 3}))
    assert held(intake, "SKU0002") == 3
    cancel = post_meituan(
        client, "/push/meituan/cancel", {"order_id": "MT1", "reason_code": "1001", "reason": "用户取消"}
    )
    assert (cancel.status_code, cancel.json()) == (200, {"data": "ok"})
    assert held(intake, "SKU0002") == 0
    # The units are free again for the next customer.
    assert post_app(client, app_order("APP2", {"SKU0002": 3})).status_code == 200


def test_a_cancel_before_the_order_holds_nothing_when_the_order_arrives(intake):
    client = gateway(intake)
    post_meituan(client, "/push/meituan/cancel", {"order_id": "MT9", "reason_code": "1001", "reason": "用户取消"})
    reply = post_meituan(client, "/push/meituan/order", meituan_order("MT9", {"SKU0001": 2}))
    assert reply.status_code == 200 and held(intake, "SKU0001") == 0


def test_an_unreadable_order_is_landed_for_quarantine_and_our_app_hears_why(intake):
    client = gateway(intake)
    reply = post_app(client, app_order("APP1", {"SKU9999": 1}))
    assert reply.status_code == 422 and reply.json()["code"] == "unreadable"
    assert logged(intake) == 1


def test_redis_away_is_unavailable_so_the_channel_retries(intake, tmp_path):
    from orchestration.services.redis_server import free_port

    dead = redis.Redis(port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5)
    away = Intake(dead, StockLedger(dead), intake.log, LiveCounters(dead), intake.catalogue)
    reply = post_app(gateway(away), app_order("APP1", {"SKU0001": 1}))
    assert (reply.status_code, reply.json()["code"]) == (503, "unavailable")


def test_health_and_metrics(intake):
    client = gateway(intake)
    post_app(client, app_order("APP1", {"SKU0001": 1}))
    assert client.get("/health").json() == {"status": "ok", "backlog": 1}
    metrics = client.get("/metrics").text
    assert 'orderhub_gateway_pushes_total{channel="app",code="accepted"} 1.0' in metrics
    assert "orderhub_intake_backlog 1.0" in metrics


def test_a_refused_order_retried_after_a_lost_answer_is_still_refused(intake):
    """The gateway crashed after refusing (the ledger knows) and before it marked its answer: the retry is refused
    again and lands cancelled, never accepted without stock."""
    client = gateway(intake)
    body = app_order("APP1", {"SKU0001": 5})
    assert post_app(client, body).status_code == 409
    intake.client.delete("oh:answered:app:APP1")
    retry = post_app(client, body)
    assert (retry.status_code, retry.json()["code"]) == (409, "out_of_stock")
    assert held(intake, "SKU0001") == 0


def test_a_change_the_stock_cannot_cover_is_refused_and_the_order_stands(intake):
    client = gateway(intake)
    assert post_app(client, app_order("APP1", {"SKU0001": 2})).status_code == 200
    bigger = post_app(client, app_order("APP1", {"SKU0001": 5}))
    assert (bigger.status_code, bigger.json()["code"]) == (409, "out_of_stock")
    assert held(intake, "SKU0001") == 2
    assert logged(intake) == 1, "nothing new lands: the warehouse keeps the version that holds stock"


def landed(intake, order_key: str) -> list[dict]:
    return [fields for _, fields in intake.client.xrange("oh:intake") if fields["order_key"] == order_key]


def test_a_late_retry_of_an_older_version_is_landed_and_changes_no_reservation(intake):
    """The probe's sequence: qty 2, then qty 3 with a later updated_at, then the first request again (same body,
    timestamp and signature). The warehouse applies the newest status time (qty 3), so the hold must stay 3."""
    client = gateway(intake)
    first, at = app_order("APP1", {"SKU0001": 2}), time.time()
    assert post_app(client, first, at=at).status_code == 200
    changed = json.loads(app_order("APP1", {"SKU0001": 3}))
    changed["updated_at"] = "2026-11-26T11:40:00+08:00"
    assert post_app(client, json.dumps(changed).encode()).status_code == 200
    assert held(intake, "SKU0001") == 3

    late = post_app(client, first, at=at)
    assert (late.status_code, late.json()) == (200, {"ok": True})
    assert held(intake, "SKU0001") == 3
    order = intake.client.hgetall(f"oh:{{{STORE}}}:order:app:APP1")
    assert (order["state"], json.loads(order["lines"])) == ("active", {"SKU0001": 3})
    assert len(landed(intake, "app:APP1")) == 3, "every version lands: the warehouse ranks the late one older"
    # A cancel notice lands the newest version's record again, not the late one's.
    assert json.loads(intake.client.get("oh:record:app:APP1"))["items"][0]["qty"] == 3


def test_a_platform_retry_of_an_older_version_changes_nothing_and_its_exact_repeat_hears_ok(intake):
    client = gateway(intake)
    older = meituan_order("MT1", {"SKU0002": 1})
    newer = {**meituan_order("MT1", {"SKU0002": 2}), "utime": str(int(older["utime"]) + 600)}
    at = time.time()
    assert post_meituan(client, "/push/meituan/order", older, at=at).json() == {"data": "ok"}
    assert post_meituan(client, "/push/meituan/order", newer).json() == {"data": "ok"}
    assert post_meituan(client, "/push/meituan/order", older, at=at).json() == {"data": "ok"}
    assert held(intake, "SKU0002") == 2
    before = logged(intake)
    assert post_meituan(client, "/push/meituan/order", newer).json() == {"data": "ok"}
    assert held(intake, "SKU0002") == 2 and logged(intake) == before, "an exact repeat is not applied again"


def test_a_cancel_notice_lands_after_a_last_version_stamped_by_a_clock_ahead_of_ours(intake):
    """Meituan's clock 2 minutes ahead: the order's utime is later than our now. The cancel we land must still
    rank after it in the warehouse (which applies the newest status time), or fct_orders keeps it open."""
    client = gateway(intake)
    ahead = int(time.time()) + 120
    order = {**meituan_order("MT1", {"SKU0002": 2}), "utime": str(ahead)}
    assert post_meituan(client, "/push/meituan/order", order).status_code == 200
    cancel = {"order_id": "MT1", "reason_code": "1001", "reason": "用户取消"}
    assert post_meituan(client, "/push/meituan/cancel", cancel).json() == {"data": "ok"}
    assert held(intake, "SKU0002") == 0
    placed, cancelled = (json.loads(fields["record"]) for fields in landed(intake, "meituan:MT1"))
    assert (placed["status"], cancelled["status"]) == ("2", "9")
    assert int(cancelled["utime"]) > int(placed["utime"])


def test_the_platforms_url_check_by_get_hears_ok(intake):
    client = gateway(intake)
    for path in ("/push/meituan/order", "/push/meituan/cancel"):
        reply = client.get(path)
        assert (reply.status_code, reply.json()) == (200, {"data": "ok"})
    reply = client.get("/push/eleme")
    assert (reply.status_code, reply.json()) == (200, {"message": "ok"})
    assert client.get("/push/app").status_code == 405, "our apps do not check their URL"
    assert logged(intake) == 0


def test_an_empty_request_is_a_ping_answered_ok_and_does_nothing_else(intake):
    client = gateway(intake, replay_window_s=300)
    form = {"content-type": "application/x-www-form-urlencoded"}
    for path in ("/push/meituan/order", "/push/meituan/cancel"):
        reply = client.post(path, content=b"", headers=form)
        assert (reply.status_code, reply.json()) == (200, {"data": "ok"})
    reply = client.post("/push/eleme", content=b"", headers={"content-type": "application/json"})
    assert (reply.status_code, reply.json()) == (200, {"message": "ok"})
    assert logged(intake) == 0 and intake.client.keys("oh:record:*") == []
    # The window still holds for every push that carries something.
    stale = post_meituan(client, "/push/meituan/order", meituan_order("MT1", {"SKU0001": 1}), at=time.time() - 3600)
    assert (stale.status_code, stale.json()["error"]["code"]) == (401, "expired")
    unsigned = client.post("/push/meituan/order", content=b"order_id=MT2&timestamp=0", headers=form)
    assert unsigned.status_code == 401
    assert held(intake, "SKU0001") == 0 and logged(intake) == 0


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(intake):
    """A body over max_body_bytes is refused with 413 whether it declares its length or streams without one, and
    holds nothing; a signed order under the limit is taken as ever."""
    client = gateway(intake, max_body_bytes=4096)
    small = app_order("APP1", {"SKU0001": 1})
    large = app_order("APP2", {"SKU0001": 1}).replace(b"}", b', "note": "' + b"x" * 8192 + b'"}', 1)
    declared = post_app(client, large)
    headers = {**sign_own(SECRETS["app"].secret, large, int(time.time())), "content-type": "application/json"}
    streamed = client.post("/push/app", content=iter([large[:3000], large[3000:]]), headers=headers)
    assert (declared.status_code, declared.json()["code"]) == (413, "too_large")
    assert (streamed.status_code, streamed.json()["code"]) == (413, "too_large")
    assert held(intake, "SKU0001") == 0 and logged(intake) == 0
    assert post_app(client, small).status_code == 200 and held(intake, "SKU0001") == 1
