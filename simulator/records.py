"""Order (+ optional fault) -> the landed record in its channel's native format."""

from __future__ import annotations

import dataclasses
import random

from . import render_csv, render_json
from .faults import Fault
from .orders import Order
from .progress import Step
from .writers import Record


def render_lines(o: Order, fault: Fault | None, envelope: random.Random) -> list[str]:
    ch = o.channel
    if ch == "app":
        return [render_json.app_like(o, fault, mini=False)]
    if ch == "miniprogram":
        return [render_json.app_like(o, fault, mini=True)]
    if ch == "meituan":
        return [render_json.meituan(o, fault)]
    if ch == "eleme":
        # Envelope ids come from their own stream so they do not shift the order sampling.
        request_id = f"{envelope.getrandbits(128):032x}"
        return [render_json.eleme(o, fault, request_id, o.paid_at * 1000 + envelope.randrange(1000))]
    if ch == "pos":
        return render_csv.pos(o, fault)
    return render_csv.groupbuy(o, fault)


def record_for(o: Order, fault: Fault | None, envelope: random.Random) -> Record:
    lines = render_lines(o, fault, envelope)
    if fault is None:
        return Record((o.created, 0, o.idx), lines, "valid", o.key)
    return Record((o.created, 0, o.idx), lines, "bad", o.key if fault.names_order else None, fault.code)


def duplicate_of(original: Record, when: int, idx: int) -> Record:
    """The exact same text pushed again (a platform retry)."""
    return Record((when, 1, idx), list(original.lines), "duplicate", original.order_key)


def status_update_for(o: Order, step: Step, envelope: random.Random) -> Record:
    """The same order pushed again by its channel, in its own format, with a new status at `step.at`
    (app / mini-program `updated_at`, Meituan `utime`, Eleme envelope `timestamp`)."""
    pushed = dataclasses.replace(o, status=step.native, updated_at=step.at)
    if o.channel == "eleme":
        lines = [
            render_json.eleme(
                pushed, None, f"{envelope.getrandbits(128):032x}", step.at * 1000 + envelope.randrange(1000)
            )
        ]
    else:
        lines = render_lines(pushed, None, envelope)
    return Record((step.at, 1, o.idx), lines, "update", o.key, status=step.unified(o.channel))
