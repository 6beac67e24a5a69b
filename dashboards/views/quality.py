"""Data quality page: row accounting over every ingest batch (landed = loaded + quarantined + duplicate), per
channel and batch by batch, every quarantine reason, and (once the validation suites publish them) the latest
validation results, the recent validations and the quarantine's status per reason and channel (open,
resolved by a replay, replay failed). The live page shows the business day; this page shows everything the
snapshot holds."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboards import components as ui
from dashboards.formatting import format_count, format_pct, format_time, ratio
from dashboards.i18n import Lang, label, t
from dashboards.queries.quality import DQ_RECENT_VALIDATIONS, QualityData
from dashboards.queries.reader import LIST_LIMIT, Row, Source


def render() -> None:
    ui.run_page("page.quality", body)


def body(source: Source, lang: Lang, refresh: float) -> None:
    data: QualityData | None = ui.load(source, "quality", lang)
    if data is None:
        return
    ui.stamp(data.meta, lang, refresh)
    if ui.missing_tables(data.missing, "producer.quality", lang):
        return
    render_tiles(data.by_channel, lang)
    st.subheader(t("dq.by_channel", lang))
    ui.table(channel_table(data.by_channel, lang), lang)
    batches_col, quarantine_col = st.columns([3, 2])
    with batches_col:
        st.subheader(t("dq.batches", lang))
        ui.table(batch_table(data.recent_batches, lang), lang, limit=LIST_LIMIT)
    with quarantine_col:
        st.subheader(t("dq.quarantine", lang))
        ui.table(quarantine_table(data.quarantine, lang), lang)
    render_validation(data, lang)


def render_validation(data: QualityData, lang: Lang) -> None:
    """The validation suites' results: a one-line verdict, every expectation's latest result (failures first), the recent
    validations, the quarantine's status. Says so when the snapshot has none of it yet."""
    st.subheader(t("dq.results", lang))
    if data.dq_bad_columns:
        st.warning(t("dq.bad_columns", lang, columns=", ".join(f"`{c}`" for c in data.dq_bad_columns)))
    totals = data.dq_totals
    if totals is None or not totals["expectations"]:
        if not data.dq_bad_columns:
            st.info(t("dq.no_results", lang))
    else:
        values = {"suites": format_count(totals["suites"]), "n": format_count(totals["expectations"])}
        if totals["failed"]:
            st.warning(
                t(
                    "dq.some_failed",
                    lang,
                    failed=format_count(totals["failed"]),
                    critical=format_count(totals["critical_failed"]),
                    **values,
                )
            )
        else:
            st.success(t("dq.all_passed", lang, **values))
        st.caption(t("dq.expectations", lang))
        ui.table(results_table(data.dq_results, lang), lang, limit=LIST_LIMIT)
    if data.dq_validations:
        st.subheader(t("dq.validations", lang))
        ui.table(validations_table(data.dq_validations, lang), lang, limit=DQ_RECENT_VALIDATIONS)
    if data.quarantine_status:
        st.subheader(t("dq.quarantine_status", lang))
        ui.table(quarantine_status_table(data.quarantine_status, lang), lang)


def render_tiles(by_channel: Iterable[Row], lang: Lang) -> None:
    rows = list(by_channel)
    landed = sum(r["landed"] for r in rows)
    quarantined = sum(r["quarantined"] for r in rows)
    unbalanced = sum(r["unbalanced_batches"] for r in rows)
    cols = st.columns(4)
    cols[0].metric(t("tile.landed_all", lang), format_count(landed))
    cols[1].metric(
        t("tile.quarantine_rate", lang),
        format_pct(ratio(quarantined, landed)),
        help=t("help.quarantined_n", lang, n=format_count(quarantined)),
    )
    cols[2].metric(t("tile.duplicates", lang), format_count(sum(r["duplicate"] for r in rows)))
    cols[3].metric(t("tile.unbalanced", lang), format_count(unbalanced))
    if unbalanced:
        st.warning(t("ingest.unbalanced", lang, n=format_count(unbalanced)))
    elif rows:
        st.success(t("dq.balance_ok", lang, n=format_count(sum(r["batches"] for r in rows))))


def _channel(code: str, lang: Lang) -> str:
    return code if code.startswith(("reference/", "settlement/")) else label("channel", code, lang)


def channel_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.batches": lambda r: format_count(r["batches"]),
            "col.landed": lambda r: format_count(r["landed"]),
            "col.loaded": lambda r: format_count(r["loaded"]),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.duplicate": lambda r: format_count(r["duplicate"]),
            "col.quarantine_rate": lambda r: format_pct(ratio(r["quarantined"], r["landed"])),
            "tile.unbalanced": lambda r: format_count(r["unbalanced_batches"]),
        },
    )


def batch_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.started": lambda r: format_time(r["started_local"]),
            "col.batch": lambda r: r["batch_id"],
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.files": lambda r: format_count(r["files"]),
            "col.landed": lambda r: format_count(r["landed"]),
            "col.loaded": lambda r: format_count(r["loaded"]),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.duplicate": lambda r: format_count(r["duplicate"]),
            "col.balanced": lambda r: ui.yes_no(r["is_balanced"], lang),
            "col.seconds": lambda r: "—" if r["seconds"] is None else f"{r['seconds']:,.1f}",
        },
    )


def quarantine_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.error_code": lambda r: r["error_code"],
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.records": lambda r: format_count(r["records"]),
            "col.first_at": lambda r: format_time(r["first_at_local"]),
            "col.last_at": lambda r: format_time(r["last_at_local"]),
        },
    )


def _result(success: bool | None, lang: Lang) -> str:
    return t("result.pass" if success else "result.fail", lang)


def _scope(r: Row, lang: Lang) -> str:
    """What a validation covered: the suite's scope and, for per-channel validations, the channel."""
    scope = label("dq_scope", r["scope"], lang)
    return scope if r["channel"] is None else f"{scope} · {_channel(r['channel'], lang)}"


def results_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.result": lambda r: _result(r["last_success"], lang),
            "col.severity": lambda r: label("severity", r["severity"], lang),
            "col.suite": lambda r: r["suite"],
            "col.scope": lambda r: _scope(r, lang),
            "col.rule": lambda r: r["rule"] or r["expectation"],
            "col.observed": lambda r: r["last_observed_value"] or "—",
            "col.unexpected": lambda r: format_count(r["last_unexpected_count"]),
            "col.failure_history": lambda r: t(
                "dq.failure_history",
                lang,
                failures=format_count(r["failures"]),
                validations=format_count(r["validations"]),
            ),
            "col.batch": lambda r: r["last_batch"],
            "col.validated_at": lambda r: format_time(r["last_validated_local"]),
        },
    )


def validations_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.validated_at": lambda r: format_time(r["validated_local"]),
            "col.suite": lambda r: r["suite"],
            "col.scope": lambda r: _scope(r, lang),
            "col.batch": lambda r: r["batch"],
            "col.rows": lambda r: format_count(r["rows"]),
            "col.expectation_count": lambda r: format_count(r["expectations"]),
            "col.failed": lambda r: format_count(r["failed"]),
            "col.critical_failed": lambda r: format_count(r["critical_failed"]),
            "col.result": lambda r: _result(r["success"], lang),
        },
    )


def quarantine_status_table(rows: Iterable[Row], lang: Lang) -> pd.DataFrame:
    return ui.frame(
        rows,
        lang,
        {
            "col.error_code": lambda r: r["error_code"],
            "col.channel": lambda r: _channel(r["channel"], lang),
            "col.quarantined": lambda r: format_count(r["quarantined"]),
            "col.open": lambda r: format_count(r["open"]),
            "col.resolved": lambda r: format_count(r["resolved"]),
            "col.replay_failed": lambda r: format_count(r["replay_failed"]),
            "col.last_at": lambda r: format_time(r["last_quarantined_local"]),
        },
    )


if __name__ == "__main__":
    render()
