"""What no loader design avoids, against plain parsing of the same files: how close to the parse rate a load
that keeps this warehouse's contract can come at best.

On one simulated day (or `--landing`), in one command: plain parsing of the order files (the baseline of
bench/ingest_throughput.py), then the parts any load must do, each alone: DuckDB's own JSON reader over the
JSON order files with no extraction at all (the fastest bulk read there is), cpca over the day's distinct
address texts (the administrative part of every address), and writing the rows the day produces (each record's
history row with its raw text, the orders, the line history) into an empty warehouse file with the contract's
keys, committed and checkpointed — and once more without the keys. Then the real `run_batch` on the same files.
The sum of the floor parts, as a share of the parse rate, is the best ratio a loader could reach if extraction,
normalisation and dedupe cost nothing.

    .venv/bin/python bench/ingest_floor.py [--orders 20000] [--landing DIR]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_throughput import DAY, machine, plain_parse  # noqa: E402

from ingestion import addresses, warehouse  # noqa: E402
from ingestion.landing import discover  # noqa: E402
from ingestion.loader import run_batch  # noqa: E402
from simulator import simulate_day  # noqa: E402

WRITTEN = ("order_history", "orders", "order_line_history")
JSON_CHANNELS = ("meituan", "eleme", "app", "miniprogram")


def read_json_seconds(landing: Path) -> tuple[int, float]:
    files = [f.path for f in discover(landing) if f.kind == "orders" and f.path.suffix == ".jsonl"]
    con = duckdb.connect()
    records = 0
    started = time.perf_counter()
    for channel in JSON_CHANNELS:
        paths = [str(p) for p in files if p.parent.parent.name == channel]
        if paths:
            con.execute(
                f"CREATE TABLE j_{channel} AS SELECT * FROM read_json(?, format = 'newline_delimited', "
                "ignore_errors = true)",
                [paths],
            )
            records += con.execute(f"SELECT count(*) FROM j_{channel}").fetchone()[0]
    return records, time.perf_counter() - started


def cpca_seconds(loaded: duckdb.DuckDBPyConnection) -> tuple[int, float]:
    texts = [
        r[0] for r in loaded.sql("SELECT DISTINCT address_raw FROM raw.orders WHERE address_raw IS NOT NULL").fetchall()
    ]
    addresses.clear_caches()
    started = time.perf_counter()
    addresses._cpca_transform(texts)
    return len(texts), time.perf_counter() - started


def write_seconds(loaded: duckdb.DuckDBPyConnection, out: Path, keys: bool, raw_text: bool = True) -> tuple[int, float]:
    tables = {name: loaded.sql(f"SELECT * FROM raw.{name}").to_arrow_table() for name in WRITTEN}
    if not raw_text:
        tables = {name: t.drop_columns([c for c in t.column_names if c == "raw"]) for name, t in tables.items()}
    ddl = dict(
        loaded.execute(
            "SELECT table_name, sql FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name IN ?",
            [list(WRITTEN)],
        ).fetchall()
    )
    con = duckdb.connect(str(out))
    con.execute("CREATE SCHEMA raw")
    for name in WRITTEN:
        con.execute(ddl[name] if keys else re.sub(r",\s*PRIMARY KEY\s*\([^)]*\)", "", ddl[name]))
        if "raw" not in tables[name].column_names:
            con.execute(f"ALTER TABLE raw.{name} DROP COLUMN IF EXISTS raw")
    started = time.perf_counter()
    con.execute("BEGIN")
    for name, rows in tables.items():
        con.register("incoming", rows)
        con.execute(f"INSERT INTO raw.{name} SELECT * FROM incoming")
        con.unregister("incoming")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    con.close()
    return sum(t.num_rows for t in tables.values()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--landing", type=Path, help="an existing landing zone instead of a simulated day")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        landing = args.landing
        if landing is None:
            landing = tmp / "landing"
            simulate_day(DAY, orders=args.orders, seed=args.seed, out=landing)
        records, parse_s = plain_parse(landing)
        con = warehouse.connect(tmp / "loaded.duckdb")
        started = time.perf_counter()
        run_batch(con, landing)
        load_s = time.perf_counter() - started
        json_records, json_s = read_json_seconds(landing)
        texts, cpca_s = cpca_seconds(con)
        rows, keyed_s = write_seconds(con, tmp / "keys.duckdb", keys=True)
        _, bare_s = write_seconds(con, tmp / "bare.duckdb", keys=False)
        _, textless_s = write_seconds(con, tmp / "textless.duckdb", keys=False, raw_text=False)
        con.close()

    def row(what: str, seconds: float) -> str:
        return f"| {what} | {seconds:.2f} | {parse_s / seconds:.2f} |"

    floor_s = json_s + cpca_s + bare_s
    print(f"{records:,} order records in {landing}; {machine()}\n")
    print("| step | seconds | parse time / this |\n|---|---:|---:|")
    print(row(f"plain parse (orjson per line, csv.reader), {records:,} records", parse_s))
    print(row(f"DuckDB read_json of the JSON order files, no extraction ({json_records:,} records)", json_s))
    print(row(f"cpca on the day's {texts:,} distinct address texts", cpca_s))
    print(row(f"writing the day's {rows:,} rows ({', '.join(WRITTEN)}) with their keys, commit, checkpoint", keyed_s))
    print(row("the same without keys", bare_s))
    print(row("the same without keys and without each record's raw text (order_history.raw)", textless_s))
    print(row("**floor: read_json + cpca + write without keys**", floor_s))
    print(row("run_batch (the loader today)", load_s))


if __name__ == "__main__":
    main()
