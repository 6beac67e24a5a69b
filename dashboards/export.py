"""The reconciliation page's download: the finance workbook (:mod:`dashboards.workbook`, the one
``orderhub recon report`` writes) built from the serving snapshot's rows.

One difference, deliberate: the explanation column is masked like every table on the dashboard (phone numbers
``138****5678``, a group-buy leader's name ``王**``); the unmasked workbook stays the CLI's, for people with
warehouse access. (The generated-at line also names the snapshot instead of the warehouse file: the caller
passes ``source``.)
"""

from __future__ import annotations

import datetime as dt

from dashboards import workbook
from dashboards.masking import looks_like_name, mask_name, mask_text
from dashboards.queries.reader import Row
from dashboards.queries.reconciliation import ReconExport

MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_name(day: dt.date) -> str:
    """The download's name, as the CLI's default report name would read."""
    return f"reconciliation_{day.isoformat()}.xlsx"


def masked_explanation(line: Row) -> str | None:
    """The explanation with phone numbers masked and the account holder's name masked wherever it appears
    (a group-buy statement may name its leader instead of an account code)."""
    text = line.get("explanation")
    if text is None:
        return None
    account = line.get("account_id")
    if looks_like_name(account):
        text = text.replace(account, mask_name(account) or "")
    return mask_text(text)


def recon_workbook(rows: ReconExport, *, source: str, generated: dt.datetime) -> bytes:
    """The workbook of the recon day ``rows`` were read for, as ``.xlsx`` bytes, explanations masked;
    ``source`` and ``generated`` (Shanghai wall time) go on the summary sheet."""
    masked = [dict(line, explanation=masked_explanation(line)) for line in rows.lines]
    book = workbook.recon_workbook(rows.recon_date, rows.daily, masked, rows.payout, source=source, generated=generated)
    return workbook.workbook_bytes(book)
