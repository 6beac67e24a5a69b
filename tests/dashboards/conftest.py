"""Fixtures for the dashboard tests (the snapshot builders live in dashboard_snapshots.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from dashboard_snapshots import Snapshot, publish


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty Streamlit data cache (it is process-wide)."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A published snapshot of the default :class:`Snapshot`; ``ORDERHUB_SERVING`` points at it."""
    path = tmp_path / "serving.duckdb"
    publish(path, Snapshot())
    monkeypatch.setenv("ORDERHUB_SERVING", str(path))
    for name in ("ORDERHUB_REFRESH_SECONDS", "ORDERHUB_STALE_AFTER_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def count_snapshot_opens(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Counts read-only ``duckdb.connect`` calls (how often the dashboard opened a snapshot)."""
    opens = 0
    real_connect = duckdb.connect

    def connect(*args, **kwargs):
        nonlocal opens
        if kwargs.get("read_only"):
            opens += 1
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", connect)
    return lambda: opens
