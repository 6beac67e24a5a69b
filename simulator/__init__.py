"""Test data for orderhub, not part of the pipeline: a seeded world of Shanghai stores, products and
customers, and the orders they produce on six channels, written into a landing folder in each channel's
native format (docs/landing-formats.md: orders, settlement statements, reference tables) together with the
ground truth that ingestion, merging, reconciliation and the problem checks are tested against.

    simulate_day(date, orders, seed, out)   one whole business day, deterministic per seed
    run_live(out, rate, seed)               keeps writing small files for today, as the channels would
    load_truth(out, date)                   the ground truth a simulate_day wrote
    cross_day_oversells(truths)             oversells spanning midnight when several days load together

The ground truth applies the business definitions on its own (business.py, platform_fees.py), so it can catch
a wrong number in the pipeline instead of agreeing with it. The package may import the standard library,
numpy, orjson and, of the project, only ingestion.contract (the landing contract's constants); never the
pipeline's configuration or logic. See README.md.
"""

from __future__ import annotations

from .day import SimulationSummary, simulate_day
from .live import LiveStats, run_live
from .truth import cross_day_oversells, load_truth

__all__ = ["LiveStats", "SimulationSummary", "cross_day_oversells", "load_truth", "run_live", "simulate_day"]
