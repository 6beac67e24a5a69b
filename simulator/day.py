"""simulate_day: one whole business day of landing files plus its ground truth."""

from __future__ import annotations

import datetime as dt
import gc
import random
from dataclasses import dataclass
from pathlib import Path

from .business import MERGE_WINDOW_MINUTES
from .clock import DAY_S, SLOT_S, day_start_epoch
from .faults import plan_duplicates, plan_faults
from .orders import IdAllocator, Pricer, generate_skeletons
from .price_errors import plan_list_price_errors
from .problems import ProblemRules, inject_problems
from .records import duplicate_of, record_for, status_update_for
from .settlements import write_settlement_day
from .shape import BAD_RECORD_RATE, CHANNELS, DUPLICATE_CHANNELS, DUPLICATE_RATE
from .truth import build_truth, write_truth
from .world import build_world, customers_for
from .writers import (
    REFERENCE_TABLES,
    Record,
    clear_simulated,
    orders_dir,
    reference_path,
    write_channel_day,
    write_reference,
)

LAST_SLOT = 24 * 3600 // SLOT_S - 1
LATE_PUSH_RATE = 0.05  # status pushes that arrive one to three files after the status changed


@dataclass(frozen=True)
class SimulationSummary:
    date: dt.date
    seed: int
    out: Path
    orders: int  # distinct valid orders (what ingestion should load)
    records_by_channel: dict[str, dict[str, int]]  # landed / loaded / quarantined / duplicate
    files_by_channel: dict[str, list[Path]]
    reference_files: dict[str, Path]
    truth_path: Path

    @property
    def files(self) -> int:
        return sum(len(v) for v in self.files_by_channel.values())


def _clear_day(out: Path, date_str: str) -> None:
    """A re-run replaces the day's simulated output instead of mixing two runs' files under one truth."""
    for channel in CHANNELS:
        clear_simulated(orders_dir(out, channel, date_str))
    for table in REFERENCE_TABLES:
        clear_simulated(reference_path(out, table, date_str).parent)


def simulate_day(
    date: dt.date,
    orders: int,
    seed: int,
    out: Path,
    merge_window_minutes: int = MERGE_WINDOW_MINUTES,
    problem_rules: ProblemRules | None = None,
) -> SimulationSummary:
    """Write `orders` valid orders for `date` (plus ~2% bad records and ~1% duplicate pushes) as landing
    files under `out`, the reference tables, and `_truth/<date>/ground_truth.json`. Deterministic: the same
    arguments produce the same bytes. Replaces any earlier simulated output for that date under `out`.

    Orders then progress: later files carry status pushes of the same orders (picked, dispatched,
    delivered), and the day carries deliberate problems (oversells, price errors, bad addresses, late
    orders) recorded in the truth under `problems`, judged by `problem_rules` (default: the business thresholds of ProblemRules)."""
    # Millions of small, long-lived objects make the cyclic GC rescan the heap over and over (~35% of
    # the run time); none of them form cycles that need collecting before we return.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _simulate_day(
            date,
            orders,
            seed,
            Path(out),
            merge_window_minutes,
            problem_rules if problem_rules is not None else ProblemRules(),
        )
    finally:
        if was_enabled:
            gc.enable()


def _simulate_day(
    date: dt.date, orders: int, seed: int, out: Path, merge_window_minutes: int, problem_rules: ProblemRules
) -> SimulationSummary:
    date_str = date.isoformat()
    day0 = day_start_epoch(date)
    world = build_world(date, seed, customers_for(orders))
    n_bad = round(orders * BAD_RECORD_RATE)
    all_orders = generate_skeletons(world, date, orders + n_bad, seed)

    ids = IdAllocator(date)
    pricer = Pricer(world, random.Random(f"orders-{seed}-{date.isoformat()}"))
    # Own random streams for the later additions (mis-listed prices, problems, status pushes), so orders,
    # faults and duplicates stay exactly what they were for a given seed.
    pricer.list_price_overrides = plan_list_price_errors(world, random.Random(f"list-prices-{seed}-{date.isoformat()}"))
    pricer.platform_rng = random.Random(f"platform-promotions-{seed}-{date.isoformat()}")
    for o in all_orders:
        pricer.realise(o)
        if o.channel in ("meituan", "eleme"):
            o.day_seq = ids.day_seq(o.channel, o.store.store_id)
        o.order_id = ids.order_id(o)

    fault_rng = random.Random(f"faults-{seed}-{date.isoformat()}")
    faults = plan_faults(all_orders, n_bad, pricer, fault_rng)
    dups = plan_duplicates(all_orders, faults, fault_rng)
    problems = inject_problems(
        world,
        all_orders,
        faults,
        problem_rules,
        day0 + DAY_S,
        f"{seed}-{date.isoformat()}",
        pricer.list_price_overrides,
    )

    envelope = random.Random(f"envelopes-{seed}-{date.isoformat()}")
    by_channel: dict[str, dict[int, list[Record]]] = {c: {} for c in CHANNELS}
    flat: dict[str, list[Record]] = {c: [] for c in CHANNELS}
    originals: dict[int, tuple[Record, int]] = {}
    for o in all_orders:
        rec = record_for(o, faults.get(o.idx), envelope)
        slot = (o.created - day0) // SLOT_S
        by_channel[o.channel].setdefault(slot, []).append(rec)
        flat[o.channel].append(rec)
        originals[o.idx] = (rec, slot)

    dup_rng = random.Random(f"duplicates-{seed}-{date.isoformat()}")
    for o in dups:
        rec, slot = originals[o.idx]
        # Usually a retry lands in a later file of the day; sometimes later in the same file.
        target = min(slot + dup_rng.randint(1, 4), LAST_SLOT) if dup_rng.random() < 0.85 else slot
        slot_end = day0 + (target + 1) * SLOT_S - 1
        when = (
            dup_rng.randint(o.created, slot_end)
            if target == slot
            else day0 + target * SLOT_S + dup_rng.randrange(SLOT_S)
        )
        dup = duplicate_of(rec, when, o.idx)
        by_channel[o.channel].setdefault(target, []).append(dup)
        flat[o.channel].append(dup)

    _add_status_updates(all_orders, problems.plans, by_channel, flat, day0, f"{seed}-{date.isoformat()}")

    _clear_day(out, date_str)
    files = {c: write_channel_day(out, c, date_str, by_channel[c]) for c in CHANNELS}
    reference = write_reference(out, world)
    valid = [o for o in all_orders if o.idx not in faults]
    truth = build_truth(date, seed, merge_window_minutes, valid, flat, problems.truth)
    # The day's settlement statements (and lines carried to the next day's), with their discrepancies.
    truth["settlement_variances"] = write_settlement_day(out, date, seed, valid).variances
    tpath = write_truth(out, truth)
    return SimulationSummary(date, seed, out, truth["orders"], truth["records_by_channel"], files, reference, tpath)


def _add_status_updates(all_orders, plans, by_channel, flat, day0: int, stream: str) -> None:
    """Each planned status change as a re-push of the order, in the file of the slot it happened in; a few
    arrive late (a later file, possibly after a later status of the same order), and ~1% on the channels
    that retry are pushed twice (duplicates)."""
    envelope = random.Random(f"update-envelopes-{stream}")
    timing = random.Random(f"updates-{stream}")
    for o in all_orders:
        for step in plans.get(o.idx, ()):
            rec = status_update_for(o, step, envelope)
            slot = (step.at - day0) // SLOT_S
            if timing.random() < LATE_PUSH_RATE:
                slot = min(slot + timing.randint(1, 3), LAST_SLOT)
            by_channel[o.channel].setdefault(slot, []).append(rec)
            flat[o.channel].append(rec)
            if o.channel in DUPLICATE_CHANNELS and timing.random() < DUPLICATE_RATE:
                target = min(slot + timing.randint(1, 4), LAST_SLOT)
                when = max(step.at, day0 + target * SLOT_S) + 1
                dup = duplicate_of(rec, when, o.idx)
                by_channel[o.channel].setdefault(target, []).append(dup)
                flat[o.channel].append(dup)
