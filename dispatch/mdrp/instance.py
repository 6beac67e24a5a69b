"""Reading one Grubhub meal-delivery (MDRP) instance folder.

Format, as read from the files themselves and from the dataset's public description
(github.com/grubhub/mdrplib, README.md and MDRP_code/compute_performance_summary.py, the reference
solution evaluator):

- tab-separated text with a header line; `orders.txt`: order, x, y, placement_time, restaurant,
  ready_time; `couriers.txt`: courier, x, y, on_time, off_time; `restaurants.txt`: restaurant, x, y;
  `instance_parameters.txt`: meters_per_minute, pickup service minutes, dropoff service minutes,
  target click-to-door, maximum click-to-door, pay per order, guaranteed pay per hour.
- coordinates are metres on a plane; times are integer minutes on the instance's own clock.
- travel time = ceil(euclidean metres / meters_per_minute), as in the reference evaluator (the
  instance_characteristics.txt minutes column agrees: 51 m -> 1 min).
- a courier's pay is max(orders x pay per order, shift hours x guaranteed pay per hour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

FILES = ("orders.txt", "couriers.txt", "restaurants.txt", "instance_parameters.txt")
PARAMETER_COLUMNS = (
    "meters_per_minute",
    "pickup service minutes",
    "dropoff service minutes",
    "target click-to-door",
    "maximum click-to-door",
    "pay per order",
    "guaranteed pay per hour",
)


class MdrpFormatError(ValueError):
    """The folder is not a readable MDRP instance; the message names the file and line."""


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Restaurant:
    id: str
    at: Point


@dataclass(frozen=True)
class Order:
    id: str
    at: Point
    placement: int
    restaurant: str
    ready: int


@dataclass(frozen=True)
class Courier:
    id: str
    at: Point
    on: int
    off: int

    @property
    def paid_minutes(self) -> int:
        return self.off - self.on


@dataclass(frozen=True)
class Parameters:
    meters_per_minute: float
    pickup_service: int
    dropoff_service: int
    target_click_to_door: int
    maximum_click_to_door: int
    pay_per_order: float
    guaranteed_pay_per_hour: float


@dataclass(frozen=True)
class Instance:
    name: str
    orders: dict[str, Order]
    couriers: dict[str, Courier]
    restaurants: dict[str, Restaurant]
    params: Parameters

    def metres(self, a: Point, b: Point) -> float:
        return math.hypot(a.x - b.x, a.y - b.y)

    def minutes(self, a: Point, b: Point) -> int:
        return math.ceil(self.metres(a, b) / self.params.meters_per_minute)


def _rows(path: Path, columns: tuple[str, ...]) -> list[list[str]]:
    if not path.is_file():
        raise MdrpFormatError(f"{path}: missing (an MDRP instance folder holds {', '.join(FILES)})")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise MdrpFormatError(f"{path}: empty")
    header = [h.strip() for h in lines[0].split("\t")]
    if tuple(header) != columns:
        raise MdrpFormatError(f"{path}: header {header} is not the expected {list(columns)}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != len(columns):
            raise MdrpFormatError(f"{path}:{number}: {len(cells)} fields, expected {len(columns)}")
        rows.append(cells)
    return rows


def _number(path: Path, row: list[str], index: int, integer: bool = False) -> float:
    try:
        value = float(row[index])
    except ValueError:
        raise MdrpFormatError(f"{path}: {row[0]!r} has a non-numeric value {row[index]!r}") from None
    if integer and value != int(value):
        raise MdrpFormatError(f"{path}: {row[0]!r} has a non-integer time {row[index]!r}")
    return int(value) if integer else value


def read_instance(folder: str | Path) -> Instance:
    folder = Path(folder)
    if not folder.is_dir():
        raise MdrpFormatError(f"{folder}: not a directory")
    path = folder / "restaurants.txt"
    restaurants = {
        r[0]: Restaurant(r[0], Point(_number(path, r, 1), _number(path, r, 2)))
        for r in _rows(path, ("restaurant", "x", "y"))
    }
    path = folder / "orders.txt"
    orders: dict[str, Order] = {}
    for r in _rows(path, ("order", "x", "y", "placement_time", "restaurant", "ready_time")):
        order = Order(
            r[0],
            Point(_number(path, r, 1), _number(path, r, 2)),
            _number(path, r, 3, True),
            r[4],
            _number(path, r, 5, True),
        )
        if order.restaurant not in restaurants:
            raise MdrpFormatError(f"{path}: order {order.id} names unknown restaurant {order.restaurant!r}")
        if order.ready < order.placement:
            raise MdrpFormatError(
                f"{path}: order {order.id} is ready ({order.ready}) before placed ({order.placement})"
            )
        if order.id in orders:
            raise MdrpFormatError(f"{path}: order {order.id} appears twice")
        orders[order.id] = order
    path = folder / "couriers.txt"
    couriers: dict[str, Courier] = {}
    for r in _rows(path, ("courier", "x", "y", "on_time", "off_time")):
        courier = Courier(
            r[0], Point(_number(path, r, 1), _number(path, r, 2)), _number(path, r, 3, True), _number(path, r, 4, True)
        )
        if courier.off <= courier.on:
            raise MdrpFormatError(f"{path}: courier {courier.id} ends its shift before it starts")
        couriers[courier.id] = courier
    path = folder / "instance_parameters.txt"
    rows = _rows(path, PARAMETER_COLUMNS)
    if len(rows) != 1:
        raise MdrpFormatError(f"{path}: expected one row of parameters, found {len(rows)}")
    values = [_number(path, ["parameters", *rows[0]], i + 1) for i in range(len(PARAMETER_COLUMNS))]
    if values[0] <= 0:
        raise MdrpFormatError(f"{path}: meters_per_minute must be positive")
    params = Parameters(values[0], int(values[1]), int(values[2]), int(values[3]), int(values[4]), values[5], values[6])
    return Instance(folder.name, orders, couriers, restaurants, params)
