"""What a dbt invocation needs from the warehouse besides the data: the run's clock, and whether the rules the
incremental marts were built under are still the rules.

The clock is a row in `pipeline.dbt_clock` for the length of one invocation; dbt reads it through the `as_of()`
macro (dbt_project/macros/as_of.sql). It is a row, not a `--vars` entry, because dbt re-parses the whole
project whenever its vars change, and the clock changes every run: measured, 9 of a micro-batch's seconds
went to that parse. The days a reconciliation run rebuilds are a row in `pipeline.recon_window` for the same
reason (dbt_project/macros/recon.sql reads it): as vars, every run for another day parsed the project again.
That row is for the next dbt invocation only (it names the newest invocation when it was written), so a row a
killed run left behind does not narrow a later `dbt build` by hand.

The build: an incremental mart rebuilds only what new batches touched, so rows built under an earlier
config/rules.yml, or by an earlier version of a model's SQL, would stay as they were. `pipeline.dbt_rules`
keeps the digest of the rules and model checksums the marts were last fully built under; a run that finds
another digest rebuilds everything (`--full-refresh`, views included) and records it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

CLOCK_TABLE = "pipeline.dbt_clock"
RULES_TABLE = "pipeline.dbt_rules"
RECON_WINDOW_TABLE = "pipeline.recon_window"
_DDL = (
    "CREATE SCHEMA IF NOT EXISTS pipeline",
    f"CREATE TABLE IF NOT EXISTS {CLOCK_TABLE} (as_of TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {RECON_WINDOW_TABLE} (date_from DATE NOT NULL, date_to DATE NOT NULL, "
    "after_seq BIGINT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {RULES_TABLE} (digest VARCHAR, built_at TIMESTAMP)",
)


def model_checksums(manifest_path: Path) -> list[tuple[str, str]]:
    """Every model's SQL as dbt fingerprints it; read once per process (the manifest changes only on a deploy)."""
    nodes = json.loads(Path(manifest_path).read_text())["nodes"].values()
    return sorted((n["unique_id"], n["checksum"]["checksum"]) for n in nodes if n["resource_type"] == "model")


def build_digest(rules: Mapping[str, Any], models: list[tuple[str, str]], address_keys: int | None) -> str:
    """The rules, the models' checksums and the edition of the address rules the stored orders are keyed under:
    what the incremental rows were built under. The raw orders' keys change in place when that edition does
    (ingestion/address_rekey.py), which no incremental model would see."""
    payload = json.dumps(
        {"rules": rules, "models": models, "address_keys": address_keys}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def build_changed(connect, digest: str) -> bool:
    """True when the marts were last fully built under other rules or models, or never."""
    with connect() as con:
        _ensure(con)
        row = con.execute(f"SELECT digest FROM {RULES_TABLE} ORDER BY built_at DESC LIMIT 1").fetchone()
    return row is None or row[0] != digest


def record_full_build(connect, digest: str, at: datetime) -> None:
    with connect() as con:
        _ensure(con)
        con.execute(f"DELETE FROM {RULES_TABLE}")
        con.execute(f"INSERT INTO {RULES_TABLE} VALUES (?, ?)", [digest, at])


@contextmanager
def clock_for_dbt(connect, as_of: datetime) -> Iterator[None]:
    """Sets the clock, yields while dbt runs, then clears it so a later manual `dbt build` uses the wall clock.
    `connect` opens a warehouse connection (closed again before dbt runs: DuckDB allows one writer process)."""
    _set_clock(connect, as_of)
    try:
        yield
    finally:
        _set_clock(connect, None)


def _set_clock(connect, as_of: datetime | None) -> None:
    with connect() as con:
        _ensure(con)
        con.execute(f"DELETE FROM {CLOCK_TABLE}")
        if as_of is not None:
            con.execute(f"INSERT INTO {CLOCK_TABLE} VALUES (?)", [as_of])


@contextmanager
def recon_days_for_dbt(connect, first: date, last: date) -> Iterator[None]:
    """Sets the days (inclusive) the finance models rebuild in the next dbt invocation, yields while dbt runs,
    then clears them. A `dbt build` by hand without the days rebuilds every day, as it always did."""
    if last < first:
        raise ValueError(f"reconciliation days run backwards: {first} .. {last}")
    _set_window(connect, (first, last))
    try:
        yield
    finally:
        _set_window(connect, None)


def _set_window(connect, days: tuple[date, date] | None) -> None:
    with connect() as con:
        _ensure(con)
        con.execute(f"DELETE FROM {RECON_WINDOW_TABLE}")
        if days is not None:
            con.execute(f"INSERT INTO {RECON_WINDOW_TABLE} VALUES (?, ?, ?)", [*days, _newest_invocation(con)])


def _newest_invocation(con: duckdb.DuckDBPyConnection) -> int:
    """The number of the newest dbt invocation on this warehouse (dbt_project/macros/rebuilt_seq.sql), 0 before
    the first."""
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'pipeline' AND table_name = 'invocations'"
        " AND database_name = current_database()"
    ).fetchone()[0]
    if not present:
        return 0
    return con.execute("SELECT coalesce(max(seq), 0) FROM pipeline.invocations").fetchone()[0]


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _DDL:
        con.execute(statement)
