"""Independent searches on several cores: the same problem solved with different seeds at once, in a
process pool kept for the life of the process (starting a worker imports PyVRP, ~0.5 s, once).

PyVRP 0.14's `solve` is single-threaded, so on a 2-core machine a second search with another seed costs no
wall time; the caller keeps the best. The first search runs in the calling process, so `workers=2` needs
one pool process. Workers are started with `spawn`: forking a process that runs threads (Dagster's) can
deadlock the child.
"""

from __future__ import annotations

import atexit
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def _executor(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != size:
        shutdown()
        _pool = ProcessPoolExecutor(max_workers=size, mp_context=multiprocessing.get_context("spawn"))
        _pool_size = size
    return _pool


def shutdown() -> None:
    global _pool, _pool_size
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
    _pool, _pool_size = None, 0


atexit.register(shutdown)


def best_of(fn: Callable[..., T], problem: Any, time_limit_s: float, seed: int, extra: Any, workers: int) -> list[T]:
    """`fn(problem, time_limit_s, seed + k, extra)` for k in 0..workers-1, k = 0 in this process and the
    others in the pool, all at once; their results in seed order."""
    pool = _executor(workers - 1)
    futures = [pool.submit(fn, problem, time_limit_s, seed + k, extra) for k in range(1, workers)]
    results = [fn(problem, time_limit_s, seed, extra)]
    results += [f.result() for f in futures]
    return results
