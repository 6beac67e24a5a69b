"""What the door key costs per address, this tree's `ingestion/addresses.py` against another revision's, in one
process: every real address of ../shared/real-samples/address (NAACL 2019, 2,985 texts), uncached, medians of
alternating turns. Also counts how many door keys the change moved and whether it made two different keys one.

    .venv/bin/python bench/door_key_cost.py [--base-rev 18d54f6] [--turns 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "real-samples" / "address" / "naacl2019_chinese_address_test.txt"


def real_addresses() -> list[str]:
    """The NAACL file is one character per line with its label, a blank line between addresses."""
    texts, current = [], []
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line.split()[0])
        elif current:
            texts.append("".join(current))
            current = []
    if current:
        texts.append("".join(current))
    return texts


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-rev", default="18d54f6")
    parser.add_argument("--turns", type=int, default=7)
    args = parser.parse_args()
    if not SAMPLES.exists():
        sys.exit(f"{SAMPLES} is not there: this benchmark reads the real addresses in ../shared")
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        base_file = Path(tmp) / "addresses_base.py"
        base_file.write_text(
            subprocess.run(
                ["git", "show", f"{args.base_rev}:ingestion/addresses.py"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
            encoding="utf-8",
        )
        trees = {"base": load(base_file, "addresses_base"), "this": load(ROOT / "ingestion" / "addresses.py", "this")}
    texts = real_addresses()
    seconds: dict[str, list[float]] = {name: [] for name in trees}
    for turn in range(args.turns):
        for name in list(trees) if turn % 2 else list(reversed(trees)):
            trees[name].door_key.cache_clear()
            started = time.perf_counter()
            for text in texts:
                trees[name].door_key(text, True)
            seconds[name].append(time.perf_counter() - started)
    base, this = statistics.median(seconds["base"]), statistics.median(seconds["this"])
    keys = {name: [tree.door_key(text, True) for text in texts] for name, tree in trees.items()}
    joined = defaultdict(set)
    for old, new in zip(keys["base"], keys["this"], strict=True):
        joined[new].add(old)
    print(
        f"{len(texts)} real addresses, door_key uncached: {args.base_rev} {base / len(texts) * 1e6:.1f} µs, "
        f"this tree {this / len(texts) * 1e6:.1f} µs each; this/base {this / base:.2f} (median of {args.turns})"
    )
    print(
        f"door keys changed: {sum(o != n for o, n in zip(keys['base'], keys['this'], strict=True))}; "
        f"keys that were different and are now one: {sum(len(v) > 1 for v in joined.values())}"
    )


if __name__ == "__main__":
    main()
