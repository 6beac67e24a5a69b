"""Dashboard settings, read from environment variables (with defaults for the embedded setup).

Every setting is read when asked for (not at import time), so a changed environment is seen on the next
script run and tests can set variables with ``monkeypatch.setenv``.

| variable                        | default                    | meaning                                          |
|---------------------------------|----------------------------|--------------------------------------------------|
| ``ORDERHUB_SERVING``            | ``warehouse/serving.duckdb`` | the serving snapshot (relative to the current dir) |
| ``ORDERHUB_REFRESH_SECONDS``    | ``5``                      | how often the live page refreshes itself          |
| ``ORDERHUB_STALE_AFTER_SECONDS``| ``60``                     | snapshot age after which "last updated" turns red |
| ``ORDERHUB_CLICKHOUSE_DSN``     | (unset)                    | read the snapshot's copy in ClickHouse instead    |
"""

from __future__ import annotations

import math
import os
from pathlib import Path

SERVING_ENV = "ORDERHUB_SERVING"
CLICKHOUSE_ENV = "ORDERHUB_CLICKHOUSE_DSN"
REFRESH_ENV = "ORDERHUB_REFRESH_SECONDS"
STALE_AFTER_ENV = "ORDERHUB_STALE_AFTER_SECONDS"

DEFAULT_SERVING_PATH = Path("warehouse") / "serving.duckdb"
DEFAULT_REFRESH_SECONDS = 5.0
DEFAULT_STALE_AFTER_SECONDS = 60.0


class SettingsError(ValueError):
    """A dashboard environment variable holds a value the dashboard cannot use."""


def serving_path() -> Path:
    """The serving snapshot's path: ``$ORDERHUB_SERVING``, else ``warehouse/serving.duckdb`` under the cwd."""
    raw = os.environ.get(SERVING_ENV, "").strip()
    path = Path(raw).expanduser() if raw else DEFAULT_SERVING_PATH
    return path if path.is_absolute() else Path.cwd() / path


def clickhouse_dsn() -> str | None:
    """``$ORDERHUB_CLICKHOUSE_DSN`` when set: the pages then read the snapshot's copy in ClickHouse (the same
    setting the pipeline writes it with), not the file."""
    return os.environ.get(CLICKHOUSE_ENV, "").strip() or None


def refresh_seconds() -> float:
    """Seconds between live-page refreshes (``$ORDERHUB_REFRESH_SECONDS``, default 5)."""
    return _positive_seconds(REFRESH_ENV, DEFAULT_REFRESH_SECONDS)


def stale_after_seconds() -> float:
    """Snapshot age in seconds after which the page flags it as stale (``$ORDERHUB_STALE_AFTER_SECONDS``)."""
    return _positive_seconds(STALE_AFTER_ENV, DEFAULT_STALE_AFTER_SECONDS)


def _positive_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(
            f"Environment variable {name}={raw!r} is not a positive number of seconds. "
            f"Set it to e.g. {default:g}, or unset it to use the default ({default:g})."
        )
    return value
