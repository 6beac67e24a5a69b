"""Settlement reconciliation as Dagster runs it, on a simulated week.

A week is simulated day after day; Dagster reconciles it twice, in-process: as a 7-day backfill (one run
over the range, the whole week landed) and day by day (each day's partition run as that day's files land).
On that week: every discrepancy the simulator injected (ground truth `settlement_variances`) is reported on
the day it shows, with its category and amount, and nothing else is (precision and recall 100%); timing
differences are open on the order's day and clear on the next; the backfill equals the day-by-day runs; the
02:00 schedule asks for yesterday; a day's run rebuilds that day's rows only, and runs for one day after another
in one process parse the dbt project once; the finance workbook reads back with openpyxl."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from simulator import load_truth, simulate_day

pytestmark = pytest.mark.slow

WEEK = [dt.date(2026, 11, 16) + dt.timedelta(days=i) for i in range(7)]
MARTS = ("fct_reconciliation_lines", "fct_reconciliation_daily", "fct_settlement_t1")
CATEGORIES = {
    "timing_difference",
    "missing_settlement",
    "amount_mismatch",
    "fee_mismatch",
    "duplicate_settlement",
    "unexpected_refund",
    "unknown_order",
    "tender_total_mismatch",
}
ENV = ("ORDERHUB_LANDING", "ORDERHUB_WAREHOUSE", "ORDERHUB_SERVING", "DAGSTER_HOME")


def _point_at(root) -> None:
    os.environ["ORDERHUB_LANDING"] = str(root / "landing")
    os.environ["ORDERHUB_WAREHOUSE"] = str(root / "orderhub.duckdb")
    os.environ["ORDERHUB_SERVING"] = str(root / "serving.duckdb")


def _copy_day(src, dst, day: dt.date) -> None:
    """What lands on one day: its orders, reference data and statements (the simulator's output for it)."""
    for folder in src.glob(f"*/*/{day.isoformat()}"):
        shutil.copytree(folder, dst / folder.relative_to(src))


def _marts(db) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in MARTS}
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(day-by-day warehouse, backfill warehouse, definitions of the day-by-day setup, ground truth, how many
    times the day-by-day runs parsed the dbt project)."""
    from orchestration.cli.recon import run_days
    from orchestration.definitions import build_definitions
    from orchestration.defs.reconciliation.assets import RECON_JOB
    from orchestration.defs.transform.dbt_inproc import parse_count

    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.pop("DAGSTER_HOME", None)
    root = tmp_path_factory.mktemp("recon_runs")
    full = root / "simulated"
    for day in WEEK:
        simulate_day(day, orders=300, seed=33, out=full)
    truth = [v for day in WEEK for v in load_truth(full, day)["settlement_variances"]]
    try:
        # Backfill: the whole week landed, then one run over the range (what a Dagster backfill launches).
        backfill = root / "backfill"
        shutil.copytree(full, backfill / "landing", ignore=shutil.ignore_patterns("_truth"))
        _point_at(backfill)
        assert run_days(WEEK[0], WEEK[-1])

        # Day by day: each day's files land, then that day's partition runs. The first run is the whole job
        # (it also creates the staging views); later days run its load step, then its finance step: the
        # views need no rebuild, and leaving that dbt step out keeps this test within its time budget.
        daily = root / "daily"
        (daily / "landing").mkdir(parents=True)
        _point_at(daily)
        defs = build_definitions()
        job = defs.resolve_job_def(RECON_JOB)
        keys = job.asset_layer.executable_asset_keys
        steps = [[k for k in keys if k.path[0] == "raw"], [k for k in keys if k.path[-1] in MARTS]]
        quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
        parsed_before = parse_count()
        for i, day in enumerate(WEEK):
            _copy_day(full, daily / "landing", day)
            for selection in [None] if i == 0 else steps:
                result = job.execute_in_process(
                    partition_key=day.isoformat(),
                    instance=dg.DagsterInstance.ephemeral(),
                    run_config=quiet,
                    asset_selection=selection,
                )
                assert result.success, day
        yield daily / "orderhub.duckdb", backfill / "orderhub.duckdb", defs, truth, parse_count() - parsed_before
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_simulated_week_precision_and_recall(runs):
    """Reported items (variance or cleared) = injected discrepancies, matched on statement channel, day,
    category, order id (store/tender for POS) and amount; every kind of discrepancy was injected."""
    _, db, _, truth, _ = runs
    days = {d.isoformat() for d in WEEK}
    expected = {
        (
            v["channel"],
            v["statement_date"],
            v["category"],
            v["ref"],
            Decimal(str(v["amount"])).quantize(Decimal("0.01")),
        )
        for v in truth
        if v["statement_date"] in days
    }
    con = duckdb.connect(str(db), read_only=True)
    found = {
        (channel, day.isoformat(), category, ref, amount)
        for channel, day, category, ref, amount in con.execute(
            """select settlement_channel, recon_date, category,
                      coalesce(channel_order_id, store_id || '/' || tender), variance_amount
               from marts.fct_reconciliation_lines where recon_status in ('variance', 'cleared')"""
        ).fetchall()
    }
    con.close()
    kinds = Counter(category for _, _, category, _, _ in expected)
    assert set(kinds) == CATEGORIES, kinds
    assert sum(kinds.values()) >= 150
    missed, extra = sorted(expected - found), sorted(found - expected)
    assert not missed and not extra, f"missed {missed[:5]}, extra {extra[:5]}"
    print(f"simulated week: {len(expected)} injected, {len(found)} reported, precision = recall = 1.0; {dict(kinds)}")


def test_timing_differences_are_open_then_clear_next_day(runs):
    """An order settled a day late is awaiting (open) on its own day, a cleared timing difference on the
    next statement, and never reported missing; the daily mart counts the same."""
    _, db, _, truth, _ = runs
    last = WEEK[-1].isoformat()
    timing = [v for v in truth if v["category"] == "timing_difference" and v["statement_date"] <= last]
    assert len(timing) >= 7
    con = duckdb.connect(str(db), read_only=True)
    for v in timing:
        seen = dict(
            con.execute(
                "select recon_date, category || '/' || recon_status from marts.fct_reconciliation_lines "
                "where order_key = ? and settlement_channel = ? and category <> 'matched'",
                [v["order_key"], v["channel"]],
            ).fetchall()
        )
        paid_on = dt.date.fromisoformat(v["statement_date"])
        assert seen == {
            paid_on - dt.timedelta(days=1): "awaiting_settlement/open",
            paid_on: "timing_difference/cleared",
        }, v
    daily = {
        (d.isoformat(), c): n
        for d, c, n in con.execute(
            "select recon_date, settlement_channel, timing_differences from marts.fct_reconciliation_daily where timing_differences > 0"
        ).fetchall()
    }
    con.close()
    assert daily == dict(Counter((v["statement_date"], v["channel"]) for v in timing))


def test_statement_totals_and_daily_rows(runs):
    """Every statement stating a total agrees with its lines; each day has one row per channel with its
    statement received; the daily variance counts equal the line mart's."""
    _, db, *_ = runs
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select count(*) from marts.fct_settlement_t1 where totals_agree = false").fetchone()[0] == 0
    assert con.execute("select count(*) from marts.fct_settlement_t1 where totals_agree").fetchone()[0] >= 3 * len(WEEK)
    rows = con.execute(
        "select recon_date, count(*), bool_and(statement_received) from marts.fct_reconciliation_daily group by 1"
    ).fetchall()
    assert sorted(rows) == [(d, 6, True) for d in WEEK]
    mismatch = con.execute(
        """select d.recon_date, d.settlement_channel from marts.fct_reconciliation_daily d
           left join (select recon_date, settlement_channel, count(*) filter (where recon_status = 'variance') n
                      from marts.fct_reconciliation_lines group by all) l using (recon_date, settlement_channel)
           where d.variances <> coalesce(l.n, 0)"""
    ).fetchall()
    con.close()
    assert mismatch == []


def test_backfill_equals_day_by_day_runs(runs):
    """The three finance marts after a 7-day single-run backfill are row for row those of seven daily
    partition runs made as each day's files arrived (each day depends only on data up to that day)."""
    daily_db, backfill_db, *_ = runs
    by_day, backfilled = _marts(daily_db), _marts(backfill_db)
    days = {row[0] for row in backfilled["fct_reconciliation_daily"]}
    assert days == set(WEEK)
    assert len(backfilled["fct_reconciliation_lines"]) > 1000
    for mart in MARTS:
        assert by_day[mart] == backfilled[mart], mart


def test_a_reconciliation_first_leaves_the_full_build_to_the_pipeline(runs):
    """The reconciliation job builds the staging views (part of the transform's asset) on a fresh warehouse
    with --full-refresh, but that is not the full build of every mart: were it recorded as one, the first
    micro-batch after it would run incrementally over marts that were never built, and fail."""
    from orchestration.defs.transform.dbt_state import RULES_TABLE

    _, backfill_db, *_ = runs
    con = duckdb.connect(str(backfill_db), read_only=True)
    try:
        recorded = (
            con.execute(
                "select count(*) from duckdb_tables() where schema_name = 'pipeline' and table_name = 'dbt_rules'"
            ).fetchone()[0]
            and con.execute(f"select count(*) from {RULES_TABLE}").fetchone()[0]
        )
    finally:
        con.close()
    assert not recorded


def test_a_day_run_rebuilds_that_day_only(runs, tmp_path):
    """The days reach dbt as a row of the warehouse (pipeline.recon_window), not as vars: a run for one day
    rebuilds that day's finance rows and leaves every other day's as they were, and the row is gone when the
    run ends (a `dbt build` by hand rebuilds every day). Vars that changed with the day made dbt parse the
    whole project on every run: the seven day-by-day runs in one process parsed it once."""
    from orchestration.definitions import build_definitions
    from orchestration.defs.reconciliation.assets import RECON_JOB
    from orchestration.settings import Settings

    daily_db, *_, parses = runs
    assert parses == 1
    db = tmp_path / "orderhub.duckdb"
    shutil.copyfile(daily_db, db)
    kept, rebuilt = WEEK[2], WEEK[3]
    others = "select * from marts.fct_reconciliation_daily where recon_date <> ? order by all"
    con = duckdb.connect(str(db))
    before = con.execute(others, [kept]).fetchall()
    con.execute("update marts.fct_reconciliation_daily set variances = -1 where recon_date in (?, ?)", [kept, rebuilt])
    con.close()

    job = build_definitions(Settings.from_env(landing=tmp_path / "landing", warehouse=db)).resolve_job_def(RECON_JOB)
    marts = [k for k in job.asset_layer.executable_asset_keys if k.path[-1] in MARTS]
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    result = job.execute_in_process(
        partition_key=rebuilt.isoformat(),
        instance=dg.DagsterInstance.ephemeral(),
        run_config=quiet,
        asset_selection=marts,
    )
    assert result.success
    con = duckdb.connect(str(db), read_only=True)
    after = con.execute(others, [kept]).fetchall()
    tampered = con.execute("select distinct recon_date from marts.fct_reconciliation_daily where variances = -1")
    tampered = tampered.fetchall()
    window = con.execute("select * from pipeline.recon_window").fetchall()
    con.close()
    assert after == before and len(before) == 6 * (len(WEEK) - 1)
    assert tampered == [(kept,)]
    assert window == []


def test_schedule_reconciles_yesterday_at_two_in_shanghai(runs):
    """The schedule fires at 02:00 Asia/Shanghai and asks for the previous day's partition; the job writes
    the warehouse, so it carries the writer tag and runs in one process."""
    from orchestration.definitions import WRITER_TAG
    from orchestration.defs.reconciliation.assets import RECON_JOB

    _, _, defs, *_ = runs
    schedule = defs.resolve_schedule_def("reconciliation_daily")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "0 2 * * *",
        "Asia/Shanghai",
        RECON_JOB,
    )
    when = dt.datetime(2026, 11, 22, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        requests = schedule.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == ["2026-11-21"]
    job = defs.resolve_job_def(RECON_JOB)
    assert WRITER_TAG.items() <= job.tags.items()
    assert job.executor_def.name == "in_process"


def test_workbook_reads_back(runs, tmp_path):
    """The workbook has a summary sheet (one row per channel, SUM totals, frozen header) and one sheet per
    channel holding exactly that channel's items, variances first by size, money formatted, header frozen
    and filterable, columns sized to their content."""
    from dashboards.workbook import CHANNEL_SHEETS, MONEY
    from orchestration.defs.reconciliation.report import write_report

    _, db, *_ = runs
    day = WEEK[3]
    summary = write_report(db, day, tmp_path / "recon.xlsx")
    con = duckdb.connect(str(db), read_only=True)
    counts = dict(
        con.execute(
            "select settlement_channel, count(*) from marts.fct_reconciliation_lines where recon_date = ? group by 1",
            [day],
        ).fetchall()
    )
    variances = con.execute(
        "select count(*) from marts.fct_reconciliation_lines where recon_date = ? and recon_status = 'variance'", [day]
    ).fetchone()[0]
    con.close()
    assert (summary.lines, summary.variances) == (sum(counts.values()), variances)

    wb = load_workbook(tmp_path / "recon.xlsx")
    assert wb.sheetnames == ["汇总 Summary", *CHANNEL_SHEETS.values()]
    ws = wb["汇总 Summary"]
    assert day.isoformat() in ws["A1"].value and ws.freeze_panes == "B5"
    channels = [ws.cell(row=r, column=1).value for r in range(5, 11)]
    assert channels == sorted(CHANNEL_SHEETS)
    assert ws.cell(row=11, column=1).value == "合计 Total" and ws.cell(row=11, column=4).value == "=SUM(D5:D10)"
    assert ws.cell(row=5, column=5).number_format == MONEY and isinstance(ws.cell(row=5, column=5).value, (int, float))

    for channel, title in CHANNEL_SHEETS.items():
        sheet = wb[title]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.max_row - 1 == counts.get(channel, 0), channel
        header = [c.value for c in sheet[1]]
        status, variance = header.index("状态 Status") + 1, header.index("差异金额 Variance") + 1
        statuses = [sheet.cell(row=r, column=status).value for r in range(2, sheet.max_row + 1)]
        flagged = [s for s in statuses if s.startswith("差异")]
        assert statuses[: len(flagged)] == flagged and flagged, channel  # variances first; every channel has some
        sizes = [abs(Decimal(str(sheet.cell(row=r, column=variance).value))) for r in range(2, len(flagged) + 2)]
        assert sizes == sorted(sizes, reverse=True)
        assert sheet.cell(row=2, column=variance).number_format == MONEY
        explanation = header.index("说明 Explanation") + 1
        assert sheet.column_dimensions[chr(64 + explanation)].width > 20


def test_cli_report_and_its_errors(runs, tmp_path):
    """`orderhub recon report` writes the workbook and says how many variances; a day never reconciled, a
    missing warehouse and a non-.xlsx name each fail with a message saying what to do."""
    from orchestration.cli import app

    _, db, *_ = runs
    cli = CliRunner()
    out = tmp_path / "r.xlsx"
    ok = cli.invoke(app, ["recon", "report", "--date", WEEK[0].isoformat(), "--out", str(out), "--warehouse", str(db)])
    assert ok.exit_code == 0, ok.output
    assert out.exists() and "variances" in ok.output
    never = cli.invoke(app, ["recon", "report", "--date", "2026-12-01", "--out", str(out), "--warehouse", str(db)])
    assert never.exit_code == 1 and "orderhub recon run --date 2026-12-01" in never.output
    missing = cli.invoke(
        app,
        ["recon", "report", "--date", "2026-11-16", "--out", str(out), "--warehouse", str(tmp_path / "none.duckdb")],
    )
    assert missing.exit_code == 1 and "no warehouse" in missing.output
    csv = cli.invoke(
        app, ["recon", "report", "--date", "2026-11-16", "--out", str(tmp_path / "r.csv"), "--warehouse", str(db)]
    )
    assert csv.exit_code != 0 and ".xlsx" in csv.output


def test_a_bill_missing_a_row_is_not_balanced_until_it_is_fetched_again(runs, tmp_path, monkeypatch):
    """A WeChat Pay bill with a payment row cut out still states the whole day in its summary: the rows load,
    the summary is quarantined as summary_mismatch, and the day is statement_incomplete, not balanced (the cut
    payment alone would only wait as awaiting_settlement). Landed again whole, the later delivery supersedes
    what the first one could not load."""
    from orchestration.cli.recon import run_days

    _, backfill_db, *_ = runs
    day = WEEK[0]
    landing = tmp_path / "landing"
    _copy_day(backfill_db.parent / "landing", landing, day)
    [bill] = (landing / "settlements" / "wechatpay" / day.isoformat()).glob("*.csv")
    whole = bill.read_bytes()
    rows = whole.split(b"\n")
    bill.write_bytes(b"\n".join(rows[:1] + rows[2:]))  # the first payment row cut out
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("ORDERHUB_LANDING", str(tmp_path / "landing"))
    monkeypatch.setenv("ORDERHUB_WAREHOUSE", str(tmp_path / "orderhub.duckdb"))
    monkeypatch.setenv("ORDERHUB_SERVING", str(tmp_path / "serving.duckdb"))

    def wechatpay_day() -> tuple:
        con = duckdb.connect(str(tmp_path / "orderhub.duckdb"), read_only=True)
        try:
            return con.execute(
                "select day_status, statement_rejects from marts.fct_reconciliation_daily "
                "where recon_date = ? and settlement_channel = 'wechatpay'",
                [day],
            ).fetchone()
        finally:
            con.close()

    assert run_days(day, day)
    assert wechatpay_day() == ("statement_incomplete", 1)
    bill.with_name("wechatpay-bill-fetched-again.csv").write_bytes(whole)
    assert run_days(day, day)
    status, rejects = wechatpay_day()
    assert (status, rejects) != ("statement_incomplete", 1)
    assert rejects == 0
