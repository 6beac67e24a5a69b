"""Distances and travel times between coordinates.

Assumption (no road network offline): a rider's road distance is the great-circle (haversine) distance
times a detour factor (default 1.3, the usual circuity of a dense city grid), and travel time is that road
distance at a constant rider speed (default 15 km/h, an e-bike in Shanghai traffic including lights).
Both come from `RoutingConfig`. Distances are whole metres (rounded) and travel times whole seconds
(rounded up, so a plan is never optimistic by a fraction of a second).

Every solver, the plan builder and `validate_plan` call these same scalar functions, so they agree to
the second; the matrix is built with a Python loop rather than numpy on purpose, because vectorised
trigonometry may differ from `math` in the last bit and flip a rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dispatch.model import RoutingConfig

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def road_distance_m(lat1: float, lng1: float, lat2: float, lng2: float, config: RoutingConfig) -> int:
    return int(round(haversine_m(lat1, lng1, lat2, lng2) * config.detour_factor))


def travel_s(distance_m: int, config: RoutingConfig) -> int:
    """Seconds to ride `distance_m` metres at the configured speed, rounded up."""
    # Metres and seconds are multiplied out first: `* 3.6` would carry binary noise (1300 * 3.6 is not
    # exactly 4680) and ceil would turn it into a whole extra second.
    return math.ceil(distance_m * 3600 / (config.speed_kmh * 1000))


def matrices(points: Sequence[tuple[float, float]], config: RoutingConfig) -> tuple[np.ndarray, np.ndarray]:
    """(distance metres, travel seconds) between all (lat, lng) points, as int64 matrices."""
    n = len(points)
    dist = np.zeros((n, n), dtype=np.int64)
    dur = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        lat_i, lng_i = points[i]
        for j in range(i + 1, n):
            d = road_distance_m(lat_i, lng_i, points[j][0], points[j][1], config)
            t = travel_s(d, config)
            dist[i, j] = dist[j, i] = d
            dur[i, j] = dur[j, i] = t
    return dist, dur
