"""The travel model every solver and the validator share."""

from __future__ import annotations

import numpy as np

from dispatch import RoutingConfig
from dispatch.geo import haversine_m, matrices, road_distance_m, travel_s


def test_haversine_matches_a_known_distance():
    """One degree of latitude is ~111.2 km, and the Bund to Pudong airport is ~30 km: the formula and
    the Earth radius are right."""
    assert abs(haversine_m(31.0, 121.0, 32.0, 121.0) - 111_195) < 5
    assert 29_000 < haversine_m(31.2400, 121.4900, 31.1443, 121.8083) < 33_000


def test_detour_and_speed_defaults():
    """Defaults are 1.3 x great circle at 15 km/h, times rounded up: 1 km straight is 1,300 m of road
    and 312 s."""
    cfg = RoutingConfig()
    lat2 = 31.0 + 1000 / 111_195
    d = road_distance_m(31.0, 121.0, lat2, 121.0, cfg)
    assert d == 1300
    assert travel_s(d, cfg) == 312
    assert travel_s(1, cfg) == 1  # never rounded down to zero
    faster = RoutingConfig(speed_kmh=30, detour_factor=1.0)
    assert travel_s(road_distance_m(31.0, 121.0, lat2, 121.0, faster), faster) == 120


def test_matrix_is_symmetric_and_matches_the_scalar_functions():
    """Solvers use the matrix and the validator the scalar functions; they must agree entry by entry."""
    cfg = RoutingConfig()
    pts = [(31.23, 121.47), (31.25, 121.50), (31.20, 121.44), (31.23, 121.47)]
    dist, dur = matrices(pts, cfg)
    assert (dist == dist.T).all() and (np.diag(dist) == 0).all()
    for i, a in enumerate(pts):
        for j, b in enumerate(pts):
            if i != j:
                assert dist[i, j] == road_distance_m(*a, *b, cfg)
                assert dur[i, j] == travel_s(int(dist[i, j]), cfg)
