"""The stock feed back to the channels: fct_channel_stock_feed's allocation, coalescing, only-changed sends,
retries of a failing sender, and each platform's request shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestion.stock import AllocationRules, StockCount, StockFeedPublisher, StockLedger
from ingestion.stock.platform_requests import ELEME_METHOD, MEITUAN_PATH

CHANNELS = ["app", "miniprogram", "meituan", "eleme", "groupbuy"]
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def rules(**overrides) -> AllocationRules:
    """The shipped config/rules.yml values, passed in as the caller would."""
    values = {
        "safety_stock_units": 2,
        "safety_stock_by_category": {"水产": 3, "肉禽": 3, "冷冻水产": 2, "乳品": 2},
        "sku_category": {"FISH": "水产", "MILK": "乳品", "VEG": "蔬菜"},
        "channels": CHANNELS,
        "channel_allocation": {"default": {"mode": "shared"}, "groupbuy": {"mode": "fixed_share", "share": 0.2}},
    }
    return AllocationRules(**(values | overrides))


def shared(units: int, groupbuy: int) -> dict[str, int]:
    return {"app": units, "miniprogram": units, "meituan": units, "eleme": units, "groupbuy": groupbuy}


# Worked by hand from fct_channel_stock_feed.sql: sellable = max(available − safety, 0) with safety by
# category else safety_stock_units; fixed_share gets floor(sellable × share); shared gets sellable − Σ fixed.
@pytest.mark.parametrize(
    ("sku", "available", "expected"),
    [
        ("FISH", 12, shared(8, 1)),  # safety 3 (水产): sellable 9, floor(1.8) = 1, 9 − 1 = 8
        ("VEG", 27, shared(20, 5)),  # 蔬菜 has no own safety stock: 2; sellable 25, floor(5.0) = 5
        ("MILK", 2, shared(0, 0)),  # safety 2 (乳品): sellable 0, everything sold out
        ("UNKNOWN", 6, shared(4, 0)),  # no category: 2; sellable 4, floor(0.8) = 0
        ("FISH", -5, shared(0, 0)),  # oversold: never a negative stock to a channel
    ],
)
def test_allocation_matches_the_warehouse_rule(sku, available, expected):
    assert rules().per_channel(sku, available) == expected


def test_two_fixed_shares_leave_the_rest_to_the_shared_channels():
    two = rules(
        channels=["app", "groupbuy", "meituan"],
        channel_allocation={"default": {"mode": "shared"}, "groupbuy": {"mode": "fixed_share", "share": 0.3},
                            "meituan": {"mode": "fixed_share", "share": 0.25}},
    )  # fmt: skip
    # VEG, available 12: sellable 10; groupbuy floor(3.0) = 3, meituan floor(2.5) = 2, app 10 − 5 = 5.
    assert two.per_channel("VEG", 12) == {"app": 5, "groupbuy": 3, "meituan": 2}


@pytest.mark.parametrize(
    ("allocation", "message"),
    [
        (
            {
                "groupbuy": {"mode": "fixed_share", "share": 0.6},
                "app": {"mode": "fixed_share", "share": 0.6},
                "default": {"mode": "shared"},
            },
            "more than 1",
        ),  # fmt: skip
        ({"groupbuy": {"mode": "fixed_share"}, "default": {"mode": "shared"}}, r"share in \(0, 1\]"),
        ({"default": {"mode": "greedy"}}, "mode must be shared or fixed_share"),
        ({"app": {"mode": "shared"}}, "no rule for miniprogram and no default"),
    ],
)
def test_bad_allocation_rules_are_refused_like_the_sql_refuses_them(allocation, message):
    with pytest.raises(ValueError, match=message):
        rules(channel_allocation=allocation)


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail_times = fail_times

    def __call__(self, request: dict) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("platform timed out")
        self.requests.append(request)


@pytest.fixture
def senders() -> dict[str, Recorder]:
    return {channel: Recorder() for channel in CHANNELS}


def change(client, store: str, sku: str, available: int, at_ms: int = NOW_MS) -> None:
    client.xadd("oh:stock:changes", {"store_id": store, "sku_id": sku, "available": available, "at_ms": at_ms})


def sent_stock(recorder: Recorder) -> list[dict[str, int]]:
    return [{i["sku_id"]: i["stock"] for i in r["items"]} for r in recorder.requests]


def test_changes_are_coalesced_per_store_and_sku(redis_client, senders):
    publisher = StockFeedPublisher(redis_client, rules(), senders)
    for available in (20, 15, 12):
        change(redis_client, "S1", "VEG", available)
    change(redis_client, "S2", "VEG", 7)
    published = publisher.drain_once(block_ms=0)
    assert sent_stock(senders["app"]) == [{"VEG": 8}, {"VEG": 4}]  # S1 from 12 only; S2 from 7
    assert sorted((p.channel, p.store_id) for p in published) == sorted((c, s) for c in CHANNELS for s in ("S1", "S2"))
    assert all(p.latency_ms >= 0 for p in published)
    assert redis_client.xpending("oh:stock:changes", "stock-feed")["pending"] == 0


def test_only_channels_whose_quantity_changed_are_told(redis_client, senders):
    publisher = StockFeedPublisher(redis_client, rules(), senders)
    change(redis_client, "S1", "VEG", 12)  # sellable 10: groupbuy 2, shared 8
    publisher.drain_once()
    change(redis_client, "S1", "VEG", 13)  # sellable 11: groupbuy floor(2.2) = 2 still, shared 9
    second = publisher.drain_once()
    assert sorted(p.channel for p in second) == ["app", "eleme", "meituan", "miniprogram"]
    assert sent_stock(senders["groupbuy"]) == [{"VEG": 2}]
    change(redis_client, "S1", "VEG", 13)
    assert publisher.drain_once() == []


def test_a_failing_sender_leaves_the_change_pending_and_it_is_retried(redis_client, senders):
    senders["meituan"] = Recorder(fail_times=1)
    publisher = StockFeedPublisher(redis_client, rules(), senders)
    change(redis_client, "S1", "VEG", 12)
    first = publisher.drain_once()
    assert "meituan" not in {p.channel for p in first}
    assert redis_client.xpending("oh:stock:changes", "stock-feed")["pending"] == 1
    retried = publisher.drain_once()
    # Meituan gets it now; the channels told the first time are not told again.
    assert [p.channel for p in retried] == ["meituan"]
    assert json.loads(senders["meituan"].requests[0]["params"]["food_data"])[0]["skus"][0]["stock"] == "8"
    assert redis_client.xpending("oh:stock:changes", "stock-feed")["pending"] == 0


def test_reservations_reach_the_channels_through_the_outbox(redis_client, senders):
    ledger = StockLedger(redis_client)
    ledger.load_counts([StockCount("S1", "FISH", 12, NOW)], now=NOW)
    publisher = StockFeedPublisher(redis_client, rules(), senders)
    publisher.drain_once()
    from ingestion.stock import OrderDemand

    demand = OrderDemand("mt:1", "meituan", "S1", NOW, {"FISH": 5}, False, "h1")
    assert ledger.reserve(demand, allow_short=False, now=NOW).outcome == "reserved"
    publisher.drain_once()
    # available 7, safety 3: sellable 4, groupbuy floor(0.8) = 0, shared 4.
    assert sent_stock(senders["app"]) == [{"FISH": 8}, {"FISH": 4}]
    assert sent_stock(senders["groupbuy"]) == [{"FISH": 1}, {"FISH": 0}]


def test_request_shapes_and_batch_limits(redis_client, senders):
    publisher = StockFeedPublisher(
        redis_client, rules(), senders, eleme_sku_ids={f"V{i}": 200_000_000 + i for i in range(240)}
    )
    for i in range(250):
        change(redis_client, "S1", f"V{i}", 12)
    publisher.drain_once()

    meituan = senders["meituan"].requests
    assert [len(json.loads(r["params"]["food_data"])) for r in meituan] == [200, 50]
    assert meituan[0]["path"] == MEITUAN_PATH and meituan[0]["params"]["app_poi_code"] == "S1"
    assert json.loads(meituan[0]["params"]["food_data"])[0] == {
        "app_food_code": "V0", "skus": [{"sku_id": "V0", "stock": "8"}],
    }  # fmt: skip

    eleme = senders["eleme"].requests
    assert [len(r["params"]["stockMap"]) for r in eleme] == [50, 50, 50, 50, 40]
    assert eleme[0]["method"] == ELEME_METHOD and eleme[0]["params"]["stockMap"]["200000000"] == 8
    eleme_published = [p for p in publisher.drain_once()]  # nothing new: unmapped SKUs were reported once
    assert eleme_published == []

    own = senders["app"].requests
    assert [len(r["items"]) for r in own] == [250]
    assert own[0]["store_id"] == "S1" and own[0]["items"][0] == {"sku_id": "V0", "stock": 8}


def test_unmapped_eleme_skus_are_reported_not_sent(redis_client, senders):
    publisher = StockFeedPublisher(redis_client, rules(), senders, eleme_sku_ids={"VEG": 200_000_001})
    change(redis_client, "S1", "VEG", 12)
    change(redis_client, "S1", "NEW", 12)
    eleme = [p for p in publisher.drain_once() if p.channel == "eleme"]
    assert [(p.stock, p.unmapped) for p in eleme] == [({"VEG": 8}, ("NEW",))]


def test_a_channel_without_a_sender_is_refused_up_front(redis_client, senders):
    del senders["eleme"]
    with pytest.raises(ValueError, match="no sender for channel"):
        StockFeedPublisher(redis_client, rules(), senders)


def test_a_malformed_change_is_acknowledged_not_retried_forever(redis_client, senders):
    redis_client.xadd("oh:stock:changes", {"store_id": "S1", "sku_id": "VEG", "available": "many", "at_ms": "1"})
    publisher = StockFeedPublisher(redis_client, rules(), senders)
    assert publisher.drain_once() == []
    assert redis_client.xpending("oh:stock:changes", "stock-feed")["pending"] == 0


def test_changes_a_crashed_publisher_had_read_are_claimed_by_another(redis_client, senders):
    StockFeedPublisher(redis_client, rules(), senders, consumer="crashed")._ensure_group()
    change(redis_client, "S1", "VEG", 12)
    redis_client.xreadgroup("stock-feed", "crashed", {"oh:stock:changes": ">"})  # read, then it died
    survivor = StockFeedPublisher(redis_client, rules(), senders, consumer="survivor", claim_idle_ms=0)
    assert {p.channel for p in survivor.drain_once()} == set(CHANNELS)
    assert redis_client.xpending("oh:stock:changes", "stock-feed")["pending"] == 0
