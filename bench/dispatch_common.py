"""Helpers shared by the dispatch benchmarks: where the shared data lives and what machine ran them."""

from __future__ import annotations

import os
import platform
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Third-party data is never copied into the project; it sits beside it (see shared/data/SOURCES.md).
SHARED_DATA = Path(os.environ.get("ORDERHUB_SHARED_DATA", PROJECT_ROOT / ".." / "shared" / "data")).resolve()


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("pyvrp", "ortools", "vrplib"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} missing")
    return ", ".join(parts)
