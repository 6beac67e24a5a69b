"""`orderhub recon report`: the reconciliation workbook finance opens, for one recon date, read from the
warehouse's finance marts. The workbook's layout is :mod:`dashboards.workbook`, shared with the dashboard's
download, so the two cannot differ; this module reads the rows and writes the file."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from dashboards.workbook import recon_workbook
from ingestion.contract import LOCAL_TIMEZONE


class ReportError(Exception):
    """What was wrong and what to do; the CLI prints it."""


@dataclass(frozen=True)
class ReportSummary:
    path: Path
    day: dt.date
    lines: int
    variances: int
    variance_abs_amount: Decimal


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _read(warehouse: Path, day: dt.date) -> tuple[list[dict], list[dict], list[dict]]:
    if not warehouse.exists():
        raise ReportError(
            f"no warehouse at {warehouse}: run `orderhub run` (or `orderhub recon run --date {day}`) first"
        )
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise ReportError(
            f"cannot open {warehouse} ({exc}); if a pipeline run is writing it, try again when it ends"
        ) from exc
    try:
        try:
            daily = _rows(
                con,
                "select * from marts.fct_reconciliation_daily where recon_date = ? order by settlement_channel",
                [day],
            )
        except duckdb.CatalogException as exc:
            raise ReportError(
                f"{warehouse} has no reconciliation marts yet: run `orderhub recon run --date {day}`"
            ) from exc
        lines = _rows(con, "select * from marts.fct_reconciliation_lines where recon_date = ?", [day])
        payout = _rows(
            con, "select * from marts.fct_settlement_t1 where statement_date = ? order by settlement_channel", [day]
        )
    finally:
        con.close()
    if not daily:
        raise ReportError(f"{warehouse} has no reconciliation for {day}: run `orderhub recon run --date {day}` first")
    return daily, lines, payout


def write_report(warehouse: Path, day: dt.date, out: Path) -> ReportSummary:
    """Write the workbook for `day` to `out` (atomically: a temporary file, then renamed)."""
    daily, lines, payout = _read(Path(warehouse), day)
    wb = recon_workbook(
        day, daily, lines, payout, source=Path(warehouse).name, generated=dt.datetime.now(ZoneInfo(LOCAL_TIMEZONE))
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    wb.save(tmp)
    os.replace(tmp, out)
    variances = [line for line in lines if line["recon_status"] == "variance"]
    return ReportSummary(
        out, day, len(lines), len(variances), sum((abs(v["variance_amount"]) for v in variances), Decimal("0.00"))
    )
