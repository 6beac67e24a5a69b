"""Two versions of the loader give the same raw tables: load the same landing folder with each into a fresh
DuckDB file and compare every `raw.*` table row for row.

Each load runs in a child process with `PYTHONPATH=<code dir>`, so `--code-a` can be a `git archive` of an
older commit unpacked anywhere (`git archive <commit> | tar -x -C /tmp/loader-a`) and `--code-b` this tree.
Rows are compared as multisets (`EXCEPT ALL` both ways) over every column except those that record which
batch or when (batch ids and wall-clock times differ between any two loads): a speed change must leave
everything else identical, values, types, quarantine messages and counts alike.

    .venv/bin/python bench/loader_equivalence.py --code-a /tmp/loader-a --code-b . \
        --landing /work/scratch/d20/landing --landing /work/scratch/real5/land [--chunk-mb 16 --chunk-mb 1]

Exit 0 when every table matches for every landing folder and chunk size, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# Which batch and when: they differ between any two loads of the same files.
IGNORED = {"batch_id", "received_at", "quarantined_at", "done_at", "started_at", "finished_at", "applied_at"}

_CHILD = """
import sys, time
from pathlib import Path
import ingestion
from ingestion import warehouse
from ingestion.loader import run_batch
con = warehouse.connect(Path(sys.argv[1]))
t0 = time.perf_counter()
result = run_batch(con, Path(sys.argv[2]))
seconds = time.perf_counter() - t0
con.close()
print(f"{ingestion.__file__}\\t{len(result.batch_ids)}\\t{seconds:.2f}")
"""


# Every order record's extraction (what the gateway hashes too: ingestion/gateway/reading.py), as one digest
# per channel: the dicts' keys and values, or the RecordError's code and message.
_EXTRACT_CHILD = """
import hashlib, json, sys
from pathlib import Path
from ingestion.adapters import ADAPTERS
from ingestion.file_reads import read_file
from ingestion.landing import discover
from ingestion.records import RecordError
digests, counts = {}, {}
for file in discover(Path(sys.argv[1])):
    if file.kind != "orders" or file.source not in ADAPTERS:
        continue
    digest = digests.setdefault(file.source, hashlib.blake2b())
    for record in read_file(file).records:
        counts[file.source] = counts.get(file.source, 0) + 1
        try:
            out = ADAPTERS[file.source].extract(record)
            seen = [out.order, out.lines]
        except RecordError as err:
            seen = [err.code, err.message]
        digest.update(json.dumps(seen, sort_keys=True, ensure_ascii=False).encode() + b"\\n")
for source in sorted(digests):
    print(f"{source}\t{counts[source]}\t{digests[source].hexdigest()}")
"""


def _run_with(code: Path, script: str, paths: list[Path], env: dict[str, str], what: str) -> str:
    """`script` in a child whose imports come from `code`; its stdout. The child starts in `code`: `python -c`
    puts its working directory first on sys.path."""
    out = subprocess.run(
        [sys.executable, "-c", script, *(str(path.resolve()) for path in paths)],
        env={**os.environ, "PYTHONPATH": str(code.resolve()), **env},
        cwd=code.resolve(),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{what} with {code} failed:\n{out.stderr[-4000:]}")
    return out.stdout


def extraction_digests(code: Path, landing: Path) -> dict[str, tuple[str, str]]:
    """Per channel: records extracted and the digest of what extraction made of them, with the code in `code`."""
    out = _run_with(code, _EXTRACT_CHILD, [landing], {}, f"extracting {landing}")
    rows = [line.split("\t") for line in out.strip().splitlines()]
    return {channel: (records, digest) for channel, records, digest in rows}


def load(code: Path, landing: Path, db: Path, chunk_mb: float | None) -> tuple[str, int, float]:
    """Load `landing` into `db` with the loader found in `code`; (module file, commit groups, seconds)."""
    env = {}
    if chunk_mb is not None:
        env["ORDERHUB_CHUNK_MB"] = str(chunk_mb)
        # Several commit groups too, so a later group's dedupe and till journals read an earlier group's rows.
        env["ORDERHUB_COMMIT_MB"] = str(chunk_mb * 4)
    out = _run_with(code, _CHILD, [db, landing], env, f"loading {landing}")
    module, groups, seconds = out.strip().splitlines()[-1].split("\t")
    if not Path(module).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"the child imported {module}, not the code under {code}: is PYTHONPATH overridden?")
    return module, int(groups), float(seconds)


def _columns(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'raw' ORDER BY table_name, column_index",
        [db],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def compare(db_a: Path, db_b: Path) -> list[str]:
    """One line per table: its row count and whether it matches; mismatches say how many rows differ."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{db_a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{db_b}' AS b (READ_ONLY)")
    cols_a, cols_b = _columns(con, "a"), _columns(con, "b")
    report = []
    for table in sorted(set(cols_a) | set(cols_b)):
        if cols_a.get(table) != cols_b.get(table):
            report.append(f"DIFF  {table}: columns differ\n      a: {cols_a.get(table)}\n      b: {cols_b.get(table)}")
            continue
        kept = ", ".join(f'"{c}"' for c, _ in cols_a[table] if c not in IGNORED)
        count_a = con.execute(f"SELECT count(*) FROM a.raw.{table}").fetchone()[0]
        count_b = con.execute(f"SELECT count(*) FROM b.raw.{table}").fetchone()[0]
        only_a = con.execute(
            f"SELECT count(*) FROM (SELECT {kept} FROM a.raw.{table} EXCEPT ALL SELECT {kept} FROM b.raw.{table})"
        ).fetchone()[0]
        only_b = con.execute(
            f"SELECT count(*) FROM (SELECT {kept} FROM b.raw.{table} EXCEPT ALL SELECT {kept} FROM a.raw.{table})"
        ).fetchone()[0]
        same = count_a == count_b and only_a == 0 and only_b == 0
        line = f"{'same' if same else 'DIFF':<5} {table}: {count_a:,} rows"
        if not same:
            line += f" vs {count_b:,}; {only_a:,} only in a, {only_b:,} only in b"
            example = con.execute(
                f"SELECT {kept} FROM a.raw.{table} EXCEPT ALL SELECT {kept} FROM b.raw.{table} LIMIT 1"
            ).fetchone()
            line += f"\n      e.g. only in a: {str(example)[:600]}"
        report.append(line)
    con.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code-a", type=Path, required=True, help="the loader's code before (a source tree)")
    parser.add_argument("--code-b", type=Path, required=True, help="the loader's code after (a source tree)")
    parser.add_argument("--landing", type=Path, action="append", required=True, help="a landing folder; repeatable")
    parser.add_argument(
        "--chunk-mb", type=float, action="append", help="ORDERHUB_CHUNK_MB for the loads (default: the loader's)"
    )
    parser.add_argument("--keep", type=Path, help="keep the DuckDB files here (default: a temporary folder)")
    args = parser.parse_args()

    all_same = True
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for n, landing in enumerate(args.landing):
            digests = [extraction_digests(code, landing) for code in (args.code_a, args.code_b)]
            for channel in sorted(set(digests[0]) | set(digests[1])):
                a, b = (d.get(channel, ("0", "missing")) for d in digests)
                print(f"{'same' if a == b else 'DIFF':<5} extraction of {channel}: {a[0]} records vs {b[0]}")
                all_same &= a == b
            for chunk_mb in args.chunk_mb or [None]:
                how = f"{landing} (chunks of {chunk_mb:g} MB)" if chunk_mb else str(landing)
                dbs = []
                for side, code in (("a", args.code_a), ("b", args.code_b)):
                    db = out / f"{n}-{chunk_mb or 'default'}-{side}.duckdb"
                    db.unlink(missing_ok=True)
                    t0 = time.perf_counter()
                    module, groups, seconds = load(code, landing, db, chunk_mb)
                    print(
                        f"{side}: {module} loaded {how} in {groups} commit group(s), run_batch {seconds:.2f} s "
                        f"({time.perf_counter() - t0:.1f} s with the process)",
                        flush=True,
                    )
                    dbs.append(db)
                report = compare(*dbs)
                print("\n".join(report), flush=True)
                same = all(line.startswith("same") for line in report)
                print(f"{how}: {'IDENTICAL' if same else 'DIFFERENT'}\n", flush=True)
                all_same &= same
    print("every raw table identical" if all_same else "DIFFERENCES FOUND")
    sys.exit(0 if all_same else 1)


if __name__ == "__main__":
    main()
