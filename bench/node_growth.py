"""Which dbt nodes of a micro-batch grow with history: two warehouses' warm batches compared node by node.

Reads the JSON lines `bench/warm_batches.py --out` wrote for a small warehouse and a large one (same code, the
same batch sizes), takes each node's median seconds over the warm batches (the first batch of each code tree,
which pays dbt's parse, is left out) and prints the nodes by how many seconds they grew, with the ratio and the
Dagster steps the same way. What grows is what the batch still reads of history; what does not is its fixed cost.

    .venv/bin/python bench/node_growth.py --small small.jsonl --large large.jsonl [--top 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def warm_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    warm = [row for row in rows if row.get("batch", 1) > 1 and row.get("ok")]
    if not warm:
        raise SystemExit(f"{path}: no successful warm batch (batch > 1) recorded")
    return warm


def medians(rows: list[dict], field: str) -> dict[str, float]:
    seen: dict[str, list[float]] = {}
    for row in rows:
        values = row["dbt"].get("nodes", {}) if field == "nodes" else row.get(field, {})
        for name, seconds in values.items():
            seen.setdefault(name, []).append(seconds)
    return {name: statistics.median(values) for name, values in seen.items()}


def table(small: dict[str, float], large: dict[str, float], top: int) -> list[str]:
    names = sorted(set(small) | set(large), key=lambda n: -(large.get(n, 0) - small.get(n, 0)))
    lines = ["| node | small s | large s | grew s | ratio |", "|---|---:|---:|---:|---:|"]
    for name in names[:top]:
        before, after = small.get(name, 0.0), large.get(name, 0.0)
        ratio = f"{after / before:.1f}" if before > 0 else "-"
        lines.append(f"| `{name}` | {before:.2f} | {after:.2f} | {after - before:+.2f} | {ratio} |")
    lines.append(
        f"| all | {sum(small.values()):.2f} | {sum(large.values()):.2f} | "
        f"{sum(large.values()) - sum(small.values()):+.2f} | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=Path, required=True)
    parser.add_argument("--large", type=Path, required=True)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    small, large = warm_rows(args.small), warm_rows(args.large)
    print(f"warm batches: {len(small)} small, {len(large)} large\n")
    print("Dagster steps:\n")
    print("\n".join(table(medians(small, "steps"), medians(large, "steps"), args.top)))
    print("\ndbt nodes:\n")
    print("\n".join(table(medians(small, "nodes"), medians(large, "nodes"), args.top)))


if __name__ == "__main__":
    main()
