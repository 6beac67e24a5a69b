"""Helpers for the routing tests: a store in Shanghai and builders that place parcels and riders around it."""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta
from pathlib import Path

from dispatch import Parcel, Rider, Store

T0 = datetime(2026, 11, 26, 10, 0)
STORE = Store("S1", 31.2304, 121.4737)  # People's Square
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("ORDERHUB_SHARED_DATA", PROJECT_ROOT / ".." / "shared" / "data")).resolve()
SOLVERS = ("pyvrp", "ortools", "greedy")


def offset(km_north: float, km_east: float, origin: Store = STORE) -> tuple[float, float]:
    """(lat, lng) about `km_north` / `km_east` kilometres from the store."""
    lat = origin.lat + km_north / 111.195
    lng = origin.lng + km_east / (111.195 * math.cos(math.radians(origin.lat)))
    return lat, lng


def parcel(
    pid: str,
    km_north: float = 1.0,
    km_east: float = 0.0,
    *,
    weight_g: int = 1000,
    volume_ml: int = 2000,
    zone: str = "ambient",
    ready_min: float = 0,
    due_min: float | None = 90,
    from_min: float | None = None,
    store: Store = STORE,
) -> Parcel:
    lat, lng = offset(km_north, km_east, store)
    return Parcel(
        parcel_id=pid,
        store_id=store.store_id,
        lat=lat,
        lng=lng,
        weight_g=weight_g,
        volume_ml=volume_ml,
        temp_zone=zone,  # type: ignore[arg-type]
        ready_at=T0 + timedelta(minutes=ready_min),
        promised_from=T0 + timedelta(minutes=from_min) if from_min is not None else None,
        promised_to=T0 + timedelta(minutes=due_min) if due_min is not None else None,
    )


def rider(
    rid: str,
    *,
    capacity_g: int = 15000,
    cold_ml: int = 0,
    shift_min: float = 240,
    start_min: float = 0,
    at_km: tuple[float, float] = (0.0, 0.0),
    load_g: int = 0,
    store: Store = STORE,
) -> Rider:
    lat, lng = offset(*at_km, store)
    return Rider(
        rid,
        store.store_id,
        lat,
        lng,
        T0 + timedelta(minutes=start_min),
        T0 + timedelta(minutes=shift_min),
        capacity_g,
        cold_ml,
        load_g,
    )


# The wave and rolling planners' tests: one store, parcels due north of it by metres, times from WAVE_T0, and a
# short solver budget (their plans are small).
WAVE_STORE = Store("S1", 31.2000, 121.5900)
WAVE_T0 = datetime(2026, 11, 26, 3, 0)


def parcel_north(
    pid: str, minutes: float, north_m: float, *, weight_g: int = 2000, zone: str = "ambient", promise_min: int = 60
) -> Parcel:
    """A parcel ready `minutes` after WAVE_T0, `north_m` metres north of WAVE_STORE, promised `promise_min`
    minutes after it is ready."""
    ready = WAVE_T0 + timedelta(minutes=minutes)
    return Parcel(
        pid,
        WAVE_STORE.store_id,
        WAVE_STORE.lat + north_m / 111_000,
        WAVE_STORE.lng,
        weight_g,
        3000,
        zone,  # type: ignore[arg-type]
        ready,
        promised_to=ready + timedelta(minutes=promise_min),
    )


def rider_at_store(rid: str, *, capacity_g: int = 10_000, cold_ml: int = 0, hours: float = 4) -> Rider:
    """A rider at WAVE_STORE from WAVE_T0 for `hours`."""
    return Rider(
        rid,
        WAVE_STORE.store_id,
        WAVE_STORE.lat,
        WAVE_STORE.lng,
        WAVE_T0,
        WAVE_T0 + timedelta(hours=hours),
        capacity_g,
        cold_ml,
    )
