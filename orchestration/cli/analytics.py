"""`orderhub analytics …`: the channel-performance and customer-behaviour questions (history/analytics).

One subcommand per question. ClickHouse answers when ORDERHUB_CLICKHOUSE_DSN is set; otherwise the DuckDB
warehouse, opened read-only (it cannot be opened while a run writes it: DuckDB allows one writer and no
readers then, and the command says so instead of waiting).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, WAREHOUSE

analytics_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Channel performance and customer behaviour: orders, basket, repeat, cancellations, exceptions, "
    "cross-channel customers, merges. On ClickHouse when ORDERHUB_CLICKHOUSE_DSN is set, else the DuckDB warehouse.",
)


class By(str, Enum):
    channel = "channel"
    store = "store"
    hour = "hour"


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


BY = Annotated[By, typer.Option("--by", help="one row per channel, store, or local hour of day (Asia/Shanghai)")]
FROM = Annotated[str, typer.Option("--from", help="first business day YYYY-MM-DD (local), inclusive")]
TO = Annotated[str, typer.Option("--to", help="last business day YYYY-MM-DD (local), inclusive")]
FORMAT = Annotated[Format, typer.Option("--format", help="table (rich), csv or json")]


@analytics_app.command("list")
def list_questions() -> None:
    """Every question with what it answers."""
    from rich.console import Console
    from rich.table import Table

    from history.analytics import QUESTIONS, describe

    table = Table(title="orderhub analytics <question> [--by channel|store|hour] [--from D] [--to D]")
    table.add_column("question", no_wrap=True)
    table.add_column("what it answers")
    for name in QUESTIONS:
        table.add_row(name, describe(name))
    Console(width=max(Console().width, 120)).print(table)


def _day(value: str, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-26", param_hint=option) from exc


def _ask(question: str, by: By, date_from: str, date_to: str, warehouse: Path):
    from history.analytics import AnalyticsError, Scope
    from orchestration.settings import Settings

    try:
        scope = Scope(by=by.value, date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    dsn = Settings.from_env().clickhouse_dsn
    try:
        return _ask_clickhouse(dsn, question, scope) if dsn else _ask_duckdb(warehouse, question, scope)
    except AnalyticsError as exc:
        typer.echo(f"cannot answer {question}: {exc}", err=True)
        raise typer.Exit(1) from exc


def _ask_clickhouse(dsn: str, question: str, scope):
    from history.analytics import ClickHouseStore
    from history.client import DsnError, connect

    try:
        client = connect(dsn)
    except DsnError as exc:
        typer.echo(f"ORDERHUB_CLICKHOUSE_DSN: {exc}", err=True)
        raise typer.Exit(2) from exc
    try:
        return ClickHouseStore(client).ask(question, scope)
    finally:
        client.close()


def _ask_duckdb(warehouse: Path, question: str, scope):
    import duckdb

    from history.analytics import DuckDBStore

    if not warehouse.exists():
        typer.echo(f"no warehouse at {warehouse}: run `orderhub run` first, or set ORDERHUB_CLICKHOUSE_DSN", err=True)
        raise typer.Exit(1)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        typer.echo(
            f"the warehouse {warehouse} is being written by a run (DuckDB lets no reader in meanwhile): "
            "ask again when the run has finished, or set ORDERHUB_CLICKHOUSE_DSN to ask ClickHouse",
            err=True,
        )
        raise typer.Exit(1) from exc
    try:
        return DuckDBStore(con).ask(question, scope)
    finally:
        con.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _print(answer, fmt: Format, scope_label: str) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps([dict(zip(answer.columns, row, strict=True)) for row in answer.rows], default=str))
        return
    if fmt is Format.csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(answer.columns)
        writer.writerows(answer.rows)
        typer.echo(out.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{answer.question}, {scope_label} ({answer.engine})")
    for i, column in enumerate(answer.columns):
        table.add_column(column, justify="left" if i == 0 else "right", no_wrap=True)
    for row in answer.rows:
        table.add_row(*(_text(v) for v in row))
    Console(width=max(Console().width, 160)).print(table)


def _command(question: str):
    def command(
        by: BY = By.channel,
        date_from: FROM = "",
        date_to: TO = "",
        fmt: FORMAT = Format.table,
        warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    ) -> None:
        answer = _ask(question, by, date_from, date_to, warehouse)
        days = f"{date_from or 'start'} to {date_to or 'end'}" if date_from or date_to else "all days"
        _print(answer, fmt, f"by {by.value}, {days}")

    return command


def _register() -> None:
    from history.analytics import QUESTIONS, describe

    for name in QUESTIONS:
        analytics_app.command(name, help=describe(name))(_command(name))


_register()
