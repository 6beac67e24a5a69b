"""The simulator over time: live mode writing today's files as the channels would, and consecutive simulated
days agreeing with each other (promotion calendars, oversells across midnight)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
from landing_reader import NAME_RE

from simulator import run_live
from simulator.world import build_world

DATE = dt.date(2026, 11, 26)
SEED = 20261126


def test_live_mode_writes_small_files_for_today(tmp_path: Path) -> None:
    """run_live writes today's reference tables, then per-tick files of valid format named with the current
    time, with seq continuing after files already in the folder; it stops after duration_s."""
    from simulator.clock import today_local

    today = today_local().isoformat()
    pre = tmp_path / "orders" / "app" / today
    pre.mkdir(parents=True)
    (pre / "app-000000-00041.jsonl").write_text("", encoding="utf-8")
    ticks: list[int] = []
    stats = run_live(tmp_path, rate=40.0, seed=3, duration_s=2.2, on_tick=lambda s: ticks.append(s.files))
    assert stats.ticks >= 1 and stats.orders > 20 and ticks
    for table in ("stores", "products", "riders", "promotions", "stock_snapshots"):
        assert (tmp_path / "reference" / table / today / f"{table}.jsonl").stat().st_size > 0
    written = [p for p in (tmp_path / "orders").rglob("*") if p.is_file() and p.stat().st_size > 0]
    assert len(written) == stats.files >= 4
    assert all(NAME_RE.match(p.name) and p.parent.name == today for p in written)
    app_seqs = sorted(int(NAME_RE.match(p.name)["seq"]) for p in written if p.parent.parent.name == "app")
    assert app_seqs and app_seqs[0] == 42
    lines = [line for p in written if p.suffix == ".jsonl" for line in p.read_text(encoding="utf-8").splitlines()]
    parsed = 0
    for line in lines:
        try:
            orjson.loads(line)
            parsed += 1
        except orjson.JSONDecodeError:
            pass
    assert parsed >= 0.9 * len(lines)


def test_consecutive_days_promotion_calendars_agree() -> None:
    """The promotions table is keyed by promo_id and each day's calendar is loaded over the last, so a
    promo_id must mean the same promotion on every day, and a day's item discount must not claim days it
    was not sold at: else a multi-day load prices the earlier days' orders against the wrong SKUs."""
    day1, day2 = DATE, DATE + dt.timedelta(days=1)
    worlds = {d: build_world(d, SEED, 300) for d in (day1, day2)}
    defs = {d: {p.promo_id: p for p in w.promotions} for d, w in worlds.items()}
    for promo_id in defs[day1].keys() & defs[day2].keys():
        a, b = defs[day1][promo_id], defs[day2][promo_id]
        assert (a.channel, a.kind, a.threshold_fen, a.amount_fen, a.sku_id, a.platform_share) == (
            b.channel,
            b.kind,
            b.threshold_fen,
            b.amount_fen,
            b.sku_id,
            b.platform_share,
        ), promo_id
    for d, w in worlds.items():
        other = (day2 if d == day1 else day1).isoformat()
        items = [p for p in w.promotions if p.kind == "discount_item"]
        assert items and set(w.item_discounts) == {p.sku_id for p in items}
        for p in items:
            assert p.starts_at[:10] <= d.isoformat() and not (p.starts_at[:10] <= other < p.ends_at[:10]), p


def test_cross_day_oversells_draw_on_the_previous_days_count() -> None:
    """An order placed before its day's morning count reserves from the previous day's count: what was
    left at midnight plus releases since. Cancelled ones are not expected (their units went back)."""
    from simulator import cross_day_oversells

    def day(date: str, closing: list, late: list, pre: list) -> dict[str, Any]:
        return {
            "date": date,
            "problems": {"stock_carry": {"closing": closing, "late_releases": late, "pre_count": pre}},
        }

    def order(key: str, at: int, lines: list, cancelled_at: int | None = None) -> dict[str, Any]:
        return {"order_key": key, "created": at, "cancelled_at": cancelled_at, "lines": lines}

    first = day("2026-11-23", [["S1", "A", 1], ["S1", "B", 0], ["S1", "C", 0]], [[150, "S1", "C", 2]], [])
    second = day(
        "2026-11-24",
        [],
        [],
        [
            order("ok", 100, [["S1", "A", 1]]),  # takes the last unit of A
            order("short", 110, [["S1", "A", 1]]),  # none left
            order("gone", 120, [["S1", "B", 1]], 130),  # short on B, but cancelled
            order("released", 160, [["S1", "C", 2]]),  # a cancellation after midnight gave C back
            order("uncounted", 170, [["S2", "A", 5]]),  # never counted: position unknown
        ],
    )
    assert cross_day_oversells([first, second]) == ["short"]
    assert cross_day_oversells([second]) == []  # no earlier count in the load
