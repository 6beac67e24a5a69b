"""A micro-batch's three raw key tests on a large warehouse, read-only: the rows they read as before (the orders
the invocation's batches changed, by subquery) against now (the invocation's literal key list, the lines and
events bounded by their versions' batches too: dbt_project/macros/batch_scope.sql), alternating in one process,
for the newest batch; checks both read the same rows.

    .venv/bin/python bench/raw_key_tests.py --warehouse /work/scratch/scale10m/duckdb+clickhouse/wh/orderhub.duckdb
"""

import argparse
import json
import statistics
import time

import duckdb

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--warehouse", required=True)
parser.add_argument("--rounds", type=int, default=5)
args = parser.parse_args()
con = duckdb.connect(args.warehouse, read_only=True)
con.execute("set enable_progress_bar=false")
batch = con.execute("select batch_id from raw.ingest_batches order by finished_at desc limit 1").fetchone()[0]
con.execute(f"create temp table inv_batches as select '{batch}' as batch_id")
changed = """select order_key from raw.order_history where batch_id in (select batch_id from inv_batches)
  union select order_key from raw.order_events where batch_id in (select batch_id from inv_batches)"""
keys = [r[0] for r in con.execute(changed).fetchall()]


def lit(values):
    return ", ".join("'" + x.replace("'", "''") + "'" for x in sorted(set(values)))


keys_lit = lit(keys)
hist = lit(
    r[0]
    for r in con.execute(f"select distinct batch_id from raw.order_history where order_key in ({keys_lit})").fetchall()
)
cur = lit(
    r[0] for r in con.execute(f"select distinct batch_id from raw.orders where order_key in ({keys_lit})").fetchall()
)
print(
    json.dumps(
        {
            "batch": batch,
            "orders": len(set(keys)),
            "history_batches": hist.count(",") + 1,
            "current_batches": cur.count(",") + 1,
        }
    )
)
tests = {
    "orders": ("raw.orders", "order_key", False),
    "order_lines": ("raw.order_lines", "order_key, line_no", True),
    "order_events": ("raw.order_events", "order_key, status, event_time", True),
}


def sql(table, key, pred):
    """The key test (dbt's unique_combination shape) and the rows it reads."""
    return (
        f"select count(*) from (select {key} from (select * from {table} where {pred}) t group by {key} having count(*) > 1)",
        f"select count(*), sum(hash({key})) from {table} where {pred}",
    )


res = {}
for rnd in range(args.rounds):
    for name, (table, key, bounded) in tests.items():
        old = f"order_key in ({changed})"
        new = f"order_key in ({keys_lit})" + (f" and batch_id in ({cur}, {hist})" if bounded else "")
        for label, pred in (("old", old), ("new", new)):
            test_sql, rows_sql = sql(table, key, pred)
            t = time.perf_counter()
            dup = con.execute(test_sql).fetchone()[0]
            s = time.perf_counter() - t
            res.setdefault((name, label), []).append(s)
            if rnd == 0:
                res[(name, label, "rows")] = con.execute(rows_sql).fetchone()
for name in tests:
    o, n = res[(name, "old")], res[(name, "new")]
    print(
        json.dumps(
            {
                "table": name,
                "old_s": [round(x, 3) for x in o],
                "new_s": [round(x, 3) for x in n],
                "old_median": round(statistics.median(o), 3),
                "new_median": round(statistics.median(n), 3),
                "same_rows": res[(name, "old", "rows")] == res[(name, "new", "rows")],
                "rows": res[(name, "new", "rows")][0],
            }
        )
    )
