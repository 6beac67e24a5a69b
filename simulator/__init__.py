"""Seeded synthetic data for orderhub: a world of Shanghai stores, products and customers, and the
orders they produce on six channels, written as the landing files of docs/landing-formats.md together
with the ground truth that ingestion and merging are tested against.

    simulate_day(date, orders, seed, out)   one whole business day, deterministic per seed
    run_live(out, rate, seed)               keeps writing small files for today, as the channels would
    load_truth(out, date)                   the ground truth a simulate_day wrote
    cross_day_oversells(truths)             oversells spanning midnight when several days load together
"""

from __future__ import annotations

from .day import SimulationSummary, simulate_day
from .live import LiveStats, run_live
from .truth import cross_day_oversells, load_truth

__all__ = ["LiveStats", "SimulationSummary", "cross_day_oversells", "load_truth", "run_live", "simulate_day"]
