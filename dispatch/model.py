"""Domain types of the routing library: what goes in (parcels, riders, stores, settings) and what comes out
(a plan of routes and the parcels left unassigned, each with a reason).

Times are `datetime`s; naive and aware values must not be mixed within one problem. Coordinates are
WGS-84/GCJ-02 degrees (the ~500 m GCJ offset is a translation and does not change distances).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

TempZone = Literal["ambient", "chilled", "frozen"]
TEMP_ZONES: frozenset[str] = frozenset({"ambient", "chilled", "frozen"})
# Chilled and frozen parcels share the rider's insulated box; ambient ones ride in the main box.
COLD_ZONES: frozenset[str] = frozenset({"chilled", "frozen"})

SolverName = Literal["pyvrp", "ortools", "greedy"]

# Unassigned reasons. The first three are decided before any solver runs (screening); the last is what
# a solver chose to leave out, usually because riders ran out of capacity or time.
NO_COLD_BOX = "no rider with cold box"
OVERWEIGHT = "overweight for every rider"
UNREACHABLE = "cannot reach within promise"
NOT_SELECTED = "not selected by solver"
NO_RIDER = "no rider at store"
REASONS: frozenset[str] = frozenset({NO_COLD_BOX, OVERWEIGHT, UNREACHABLE, NOT_SELECTED, NO_RIDER})


@dataclass(frozen=True)
class Store:
    store_id: str
    lat: float
    lng: float


@dataclass(frozen=True)
class Parcel:
    parcel_id: str
    store_id: str
    lat: float
    lng: float
    weight_g: int
    volume_ml: int
    temp_zone: TempZone
    ready_at: datetime
    promised_from: datetime | None = None
    promised_to: datetime | None = None
    service_s: int = 120

    def __post_init__(self) -> None:
        if self.temp_zone not in TEMP_ZONES:
            raise ValueError(f"parcel {self.parcel_id}: temp_zone {self.temp_zone!r} not in {sorted(TEMP_ZONES)}")
        if self.weight_g < 0 or self.volume_ml < 0 or self.service_s < 0:
            raise ValueError(f"parcel {self.parcel_id}: weight, volume and service time must be >= 0")

    @property
    def is_cold(self) -> bool:
        return self.temp_zone in COLD_ZONES

    @property
    def cold_ml(self) -> int:
        """Volume this parcel takes in a cold box (0 for ambient parcels)."""
        return self.volume_ml if self.is_cold else 0


@dataclass(frozen=True)
class Rider:
    """A rider who can leave from `store_id`. `lat`/`lng` is where the rider is at `shift_start`; a rider
    who is elsewhere must first ride back to the store (see `geo` for the travel-time assumption)."""

    rider_id: str
    store_id: str
    lat: float
    lng: float
    shift_start: datetime
    shift_end: datetime
    capacity_g: int
    cold_box_capacity_ml: int = 0
    current_load_g: int = 0

    def __post_init__(self) -> None:
        if self.shift_end < self.shift_start:
            raise ValueError(f"rider {self.rider_id}: shift ends before it starts")

    @property
    def free_capacity_g(self) -> int:
        return max(0, self.capacity_g - self.current_load_g)


@dataclass(frozen=True)
class RoutingConfig:
    """Settings shared by all solvers.

    `unassigned_penalty` is in metres of riding: a solver rides up to that much extra rather than leave a
    parcel out, so the default (1,000 km) makes serving every servable parcel the first goal and distance
    the second. `time_limit_s` applies to each store's model separately. `no_improvement_iters` (PyVRP
    only) stops a search early once that many iterations brought nothing, which keeps tiny waves cheap.

    Punctuality terms (PyVRP only; the greedy and OR-Tools baselines ignore them): `unit_duration_cost`
    is metres of cost per second a rider is out, so time on the road weighs beside distance;
    `trip_cap_s` is a trip length a rider should be back within — a hard cap when `trip_overtime_cost`
    is None, else each second beyond it costs that many metres (a soft cap, so a lone far parcel can
    still go). `workers` > 1 runs that many independent PyVRP searches (different seeds) in parallel
    processes within the same time limit and keeps the best.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 15.0
    unassigned_penalty: int = 1_000_000
    time_limit_s: float = 2.0
    seed: int = 1
    no_improvement_iters: int | None = None
    unit_duration_cost: int = 0
    trip_cap_s: int | None = None
    trip_overtime_cost: int | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        if self.detour_factor < 1.0:
            raise ValueError("detour_factor must be >= 1 (roads are never shorter than the great circle)")
        if self.speed_kmh <= 0 or self.time_limit_s <= 0:
            raise ValueError("speed_kmh and time_limit_s must be positive")
        if self.unit_duration_cost < 0 or (self.trip_overtime_cost or 0) < 0:
            raise ValueError("unit_duration_cost and trip_overtime_cost must be >= 0")
        if self.trip_cap_s is not None and self.trip_cap_s <= 0:
            raise ValueError("trip_cap_s must be positive (or None for no cap)")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")


@dataclass(frozen=True)
class Stop:
    parcel_id: str
    seq: int
    arrival: datetime
    departure: datetime
    lat: float
    lng: float


@dataclass(frozen=True)
class Route:
    """One rider's trip: leave the store at `depart_at`, deliver `stops` in order, be back at `return_at`.
    `duration_s` is `return_at - depart_at`; `load_g` and `cold_ml` are what the trip carries out."""

    rider_id: str
    stops: list[Stop]
    distance_m: int
    duration_s: int
    load_g: int
    cold_ml: int
    depart_at: datetime
    return_at: datetime


@dataclass
class Plan:
    routes: list[Route]
    unassigned: list[tuple[str, str]]
    objective: float
    solver: str
    runtime_s: float
    notes: list[str] = field(default_factory=list)

    @property
    def distance_m(self) -> int:
        return sum(route.distance_m for route in self.routes)

    @property
    def assigned_ids(self) -> list[str]:
        return [stop.parcel_id for route in self.routes for stop in route.stops]
