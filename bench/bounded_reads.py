"""What bounding a micro-batch's reads by batch saves on a large warehouse, read-only, in one process: each read
of a batch's orders as the models make it, by their key list alone (the baseline) and with the batch list beside
it (macros/batch_keys.sql: in_batch_order_lines, in_batch_order_history), alternating, three rounds.

The orders are a batch's: `--recent` orders of the newest loaded batch that has that many, plus `--old` orders
drawn across all of history (late pushes, refunds of earlier days). Run it twice, with `--old 0` and with some:
an old order brings its whole batch's row groups back into the read, so how much the bound saves depends on how
large the batches that loaded history were (a replayed day is a few large batches; live micro-batches are small).

    .venv/bin/python bench/bounded_reads.py --warehouse PATH [--recent 950] [--old 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time

import duckdb


def literals(values) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in sorted(set(values)) if v is not None)


def timed(con, sql: str) -> tuple[float, list]:
    started = time.perf_counter()
    rows = con.execute(sql).fetchall()
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--recent", type=int, default=950)
    parser.add_argument("--old", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    con = duckdb.connect(args.warehouse, read_only=True)
    con.execute("SET memory_limit = '6GB'")
    random.seed(args.seed)
    newest = con.execute(
        "SELECT batch_id FROM raw.orders GROUP BY batch_id HAVING count(*) >= ? ORDER BY batch_id DESC LIMIT 1",
        [args.recent],
    ).fetchone()[0]
    recent = [
        r[0]
        for r in con.execute(
            "SELECT order_key FROM raw.orders WHERE batch_id = ? LIMIT ?", [newest, args.recent]
        ).fetchall()
    ]
    old = (
        [
            r[0]
            for r in con.execute(
                f"SELECT order_key FROM raw.orders USING SAMPLE {args.old} ROWS (reservoir, {args.seed})"
            ).fetchall()
        ]
        if args.old
        else []
    )
    keys = literals(recent + old)
    has_line_batches = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'order_lines' AND column_name = 'batch_id'"
    ).fetchone()[0]

    lookups = {}
    for _ in range(2):  # the second round is the warm one
        lookups["current batches (raw.orders)"], current = timed(
            con, f"SELECT DISTINCT batch_id FROM raw.orders WHERE order_key IN ({keys})"
        )
        lookups["addresses + history batches (raw.order_history)"], history = timed(
            con, f"SELECT address_key, batch_id FROM raw.order_history WHERE order_key IN ({keys})"
        )
    current_list = literals(r[0] for r in current)
    history_list = literals(r[1] for r in history)
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
                "duckdb": duckdb.__version__,
                "orders": con.execute("SELECT count(*) FROM raw.orders").fetchone()[0],
                "batch_orders": len(recent) + len(old),
                "recent": len(recent),
                "old": len(old),
                "current_batches": len(set(r[0] for r in current)),
                "history_batches": len(set(r[1] for r in history)),
                "lookup_seconds": {k: round(v, 3) for k, v in lookups.items()},
            }
        ),
        flush=True,
    )

    reads = {
        "events (current status)": (
            f"SELECT order_key, max(event_time) FROM raw.order_events WHERE order_key IN ({keys}){{bound}} GROUP BY order_key",
            f" AND batch_id IN ({history_list})",
        ),
        "history (touched days)": (
            f"SELECT DISTINCT created_at::date FROM raw.order_history WHERE order_key IN ({keys}){{bound}}",
            f" AND batch_id IN ({history_list})",
        ),
    }
    if has_line_batches:
        reads["lines (baskets)"] = (
            f"SELECT order_key, count(*), sum(quantity) FROM raw.order_lines WHERE order_key IN ({keys}){{bound}} GROUP BY order_key",
            f" AND batch_id IN ({current_list})",
        )
    for name, (sql, bound) in reads.items():
        seconds = {"key list": [], "key and batch lists": []}
        for _ in range(args.rounds):
            for label, extra in (("key list", ""), ("key and batch lists", bound)):
                spent, rows = timed(con, sql.format(bound=extra))
                seconds[label].append(spent)
                results = seconds.setdefault("_rows_" + label, sorted(map(str, rows)))
                assert results == sorted(map(str, rows)), f"{name}: {label} gave other rows"
        base, bounded = (sorted(seconds[k])[len(seconds[k]) // 2] for k in ("key list", "key and batch lists"))
        assert seconds["_rows_key list"] == seconds["_rows_key and batch lists"], f"{name}: the bound changed the rows"
        print(
            json.dumps(
                {
                    "read": name,
                    "key_list_s": [round(s, 3) for s in seconds["key list"]],
                    "with_batches_s": [round(s, 3) for s in seconds["key and batch lists"]],
                    "median_ratio": round(bounded / base, 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
