"""What keying a warehouse's stored orders again costs (ingestion/address_rekey.py), on a warehouse opened
read-only: the re-key's reads and parses, step by step as `rekey` takes them, without its UPDATE (which writes
only the versions whose columns changed). Reported per stage, with the parse of the same texts without their
records re-read as the baseline, in the same process: the re-read of Meituan's records is the re-key's own cost.

    .venv/bin/python bench/address_rekey.py --warehouse /scratch/wh/orderhub.duckdb [--versions 2000000]

With `--every-key-changes`, the real `rekey` instead, on a warehouse it writes (give it a copy), under rules
whose every door key differs from the stored one: the worst case of its UPDATEs, a new edition that changes
every key (a cpca upgrade that renames districts would come near it).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb  # noqa: E402
from batch_cost import machine, rss_gib  # noqa: E402

from ingestion import address_rekey, addresses  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--versions", type=int, default=None, help="stop after this many versions (default: all)")
    parser.add_argument("--rows-per-step", type=int, default=address_rekey.ROWS_PER_STEP)
    parser.add_argument("--every-key-changes", action="store_true", help="run rekey itself; WRITES the warehouse")
    args = parser.parse_args()
    if args.every_key_changes:
        every_key_changes(args.warehouse, args.rows_per_step)
        return

    con = duckdb.connect(str(args.warehouse), read_only=True)
    last = con.execute("SELECT max(rowid) FROM raw.order_history").fetchall()[0][0]
    stop = last + 1 if args.versions is None else min(last + 1, args.versions)
    seconds = dict.fromkeys(("read", "re-read records", "parse", "compare", "baseline parse"), 0.0)
    versions = changed = kept = 0
    for first in range(0, stop, args.rows_per_step):
        started = time.perf_counter()
        stored = address_rekey.stored_versions(con, (first, min(first + args.rows_per_step, stop)))
        seconds["read"] += time.perf_counter() - started
        versions += stored.height

        # Baseline: the texts and points alone, each parse on cold caches so both pay cpca for the step's texts.
        addresses.clear_caches()
        started = time.perf_counter()
        addresses.parse_addresses(stored["address_raw"], None, stored["lat"], stored["lng"])
        seconds["baseline parse"] += time.perf_counter() - started

        addresses.clear_caches()
        started = time.perf_counter()
        fallback, unreadable = address_rekey._fallbacks(stored)
        seconds["re-read records"] += time.perf_counter() - started
        started = time.perf_counter()
        parsed = addresses.parse_addresses(stored["address_raw"], fallback, stored["lat"], stored["lng"])
        seconds["parse"] += time.perf_counter() - started
        started = time.perf_counter()
        new, step_kept = address_rekey._compared(stored, parsed, unreadable)
        seconds["compare"] += time.perf_counter() - started
        changed += new.height
        kept += step_kept
        print(f"  {first + stored.height:>10,} rows read  {rss_gib():.2f} GiB", file=sys.stderr)

    rekey = seconds["read"] + seconds["re-read records"] + seconds["parse"] + seconds["compare"]
    print(f"machine: {machine()}")
    print(f"warehouse: {args.warehouse}, {versions:,} versions with an address, steps of {args.rows_per_step:,}")
    print(f"changed: {changed:,}; kept (district text not readable): {kept:,}; peak RSS {peak_gib():.2f} GiB")
    print("| stage | seconds | µs per version |")
    print("|---|---:|---:|")
    for stage, value in seconds.items():
        print(f"| {stage} | {value:.1f} | {value / max(versions, 1) * 1e6:.1f} |")
    print(f"| re-key without its UPDATE | {rekey:.1f} | {rekey / max(versions, 1) * 1e6:.1f} |")
    print(f"ratio re-key / baseline parse: {rekey / max(seconds['baseline parse'], 1e-9):.2f}")


def every_key_changes(path: Path, rows_per_step: int) -> None:
    from ingestion import warehouse

    door_key = addresses.door_key
    addresses.door_key = lambda detail, drop_town=False: door_key(detail, drop_town) + "~"
    addresses.clear_caches()
    con = warehouse.connect(path)
    con.execute(f"DELETE FROM {warehouse.MIGRATIONS} WHERE name = ?", [address_rekey.migration_name()])
    started = time.perf_counter()
    done = address_rekey.rekey(
        con,
        rows_per_step=rows_per_step,
        progress=lambda d, t: print(f"  {d:,}/{t:,} {rss_gib():.2f} GiB", file=sys.stderr),
    )
    seconds = time.perf_counter() - started
    con.close()
    print(f"machine: {machine()}")
    print(f"warehouse: {path}, steps of {rows_per_step:,}")
    print(f"{done}")
    print(
        f"rekey with every key changed: {seconds:.1f} s, {seconds / max(done.versions, 1) * 1e6:.1f} µs per version, "
        f"peak RSS {peak_gib():.2f} GiB"
    )


def peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


if __name__ == "__main__":
    main()
