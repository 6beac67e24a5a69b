"""Asking a question of an engine: the DuckDB warehouse (marts.*) or the ClickHouse store (orderhub.*)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb

from history.analytics.dialects import DUCKDB_TABLES, TABLES, Dialect, clickhouse_dialect, duckdb_dialect
from history.analytics.questions import Scope, question_sql


class AnalyticsError(RuntimeError):
    """The store cannot answer: a table is missing. The message says which and what to run."""


@dataclass(frozen=True)
class Answer:
    question: str
    engine: str
    columns: list[str]
    rows: list[tuple]


def _plain(value: Any) -> Any:
    """Counts stay ints; money, means and rates become floats rounded to 2 places here, once, because the
    engines' own round() differs on ties (ClickHouse rounds floats half to even, DuckDB half away from zero)."""
    if isinstance(value, Decimal | float):
        return round(float(value), 2)
    return value


class DuckDBStore:
    """The warehouse's marts through an open DuckDB connection (read-only for the CLI)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str = "marts") -> None:
        self.con = con
        self.schema = schema
        self._dialect: Dialect | None = None

    def dialect(self) -> Dialect:
        if self._dialect is None:
            present = {
                row[0]
                for row in self.con.execute(
                    "select table_name from duckdb_tables() where schema_name = ? "
                    "union all select view_name from duckdb_views() where schema_name = ?",
                    [self.schema, self.schema],
                ).fetchall()
            }
            missing = [t for t in DUCKDB_TABLES if t not in present]
            if missing:
                raise AnalyticsError(
                    f"the warehouse has no {', '.join(f'{self.schema}.{t}' for t in missing)}: "
                    "run the pipeline first (`orderhub run --landing DIR --warehouse FILE`)"
                )
            self._dialect = duckdb_dialect(self.schema)
        return self._dialect

    def ask(self, question: str, scope: Scope) -> Answer:
        result = self.con.execute(question_sql(question, self.dialect(), scope))
        columns = [c[0] for c in result.description]
        rows = [tuple(_plain(v) for v in row) for row in result.fetchall()]
        return Answer(question, "duckdb", columns, rows)


class ClickHouseStore:
    """The same tables in ClickHouse, through a clickhouse-connect client (history.client.connect)."""

    def __init__(self, client: Any, database: str | None = None) -> None:
        self.client = client
        self.database = database or getattr(client, "database", None) or "orderhub"
        self._dialect: Dialect | None = None

    def dialect(self) -> Dialect:
        if self._dialect is None:
            engines = dict(
                self.client.query(
                    "SELECT name, engine FROM system.tables WHERE database = %(db)s", parameters={"db": self.database}
                ).result_rows
            )
            missing = [t for t in TABLES if t not in engines]
            if missing:
                raise AnalyticsError(
                    f"ClickHouse database {self.database} has no {', '.join(missing)}: run the pipeline with "
                    "ORDERHUB_CLICKHOUSE_DSN set, so its sink writes the marts there"
                )
            # Row tables are ReplacingMergeTree: FINAL gives one row per key. A plain MergeTree refuses FINAL.
            replacing = {name for name, engine in engines.items() if "Replacing" in engine}
            self._dialect = clickhouse_dialect(self.database, replacing)
        return self._dialect

    def ask(self, question: str, scope: Scope) -> Answer:
        result = self.client.query(question_sql(question, self.dialect(), scope))
        rows = [tuple(_plain(v) for v in row) for row in result.result_rows]
        return Answer(question, "clickhouse", list(result.column_names), rows)
