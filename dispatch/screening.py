"""Deciding, before any solver runs, which parcels no rider of the store could ever deliver, and why.

Works on the integer quantities of one store's problem (seconds from the wave origin), so its verdicts
agree exactly with what the solvers see. A parcel that passes can still be left out by a solver when
riders run short (`not selected by solver`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.model import NO_COLD_BOX, NO_RIDER, OVERWEIGHT, UNREACHABLE


@dataclass(frozen=True)
class ParcelNeeds:
    weight_g: int
    cold_ml: int  # > 0 exactly for chilled/frozen parcels
    release: int  # ready at the store
    tw_early: int
    tw_late: int
    service: int
    out_s: int  # store -> parcel
    back_s: int  # parcel -> store


@dataclass(frozen=True)
class RiderOffer:
    capacity_g: int
    cold_ml: int
    available: int  # earliest moment at the store
    shift_end: int


def screen(needs: ParcelNeeds, riders: list[RiderOffer]) -> str | None:
    """The reason no rider can deliver this parcel alone, or None if at least one could."""
    if not riders:
        return NO_RIDER
    cold_ok = [r for r in riders if r.cold_ml >= needs.cold_ml] if needs.cold_ml > 0 else riders
    if not cold_ok:
        return NO_COLD_BOX
    fit = [r for r in cold_ok if r.capacity_g >= needs.weight_g]
    if not fit:
        return OVERWEIGHT
    if needs.tw_late < needs.tw_early:
        return UNREACHABLE
    for r in fit:
        arrive = max(r.available, needs.release) + needs.out_s
        back = max(arrive, needs.tw_early) + needs.service + needs.back_s
        if arrive <= needs.tw_late and back <= r.shift_end:
            return None
    return UNREACHABLE
