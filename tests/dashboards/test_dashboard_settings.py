"""Dashboard settings from environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards import settings


def test_serving_path_defaults_to_warehouse_under_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Without ORDERHUB_SERVING (or with it empty) the snapshot is warehouse/serving.duckdb in the cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORDERHUB_SERVING", raising=False)
    assert settings.serving_path() == tmp_path / "warehouse" / "serving.duckdb"
    monkeypatch.setenv("ORDERHUB_SERVING", "  ")
    assert settings.serving_path() == tmp_path / "warehouse" / "serving.duckdb"


def test_serving_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """ORDERHUB_SERVING is used as given when absolute, and relative to the cwd otherwise."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ORDERHUB_SERVING", "/srv/orderhub/serving.duckdb")
    assert settings.serving_path() == Path("/srv/orderhub/serving.duckdb")
    monkeypatch.setenv("ORDERHUB_SERVING", "snap/s.duckdb")
    assert settings.serving_path() == tmp_path / "snap" / "s.duckdb"


def test_seconds_settings_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch):
    """Refresh defaults to 5 s and staleness to 60 s; both can be set (fractions allowed)."""
    monkeypatch.delenv("ORDERHUB_REFRESH_SECONDS", raising=False)
    monkeypatch.delenv("ORDERHUB_STALE_AFTER_SECONDS", raising=False)
    assert settings.refresh_seconds() == 5
    assert settings.stale_after_seconds() == 60
    monkeypatch.setenv("ORDERHUB_REFRESH_SECONDS", "2.5")
    monkeypatch.setenv("ORDERHUB_STALE_AFTER_SECONDS", "300")
    assert settings.refresh_seconds() == 2.5
    assert settings.stale_after_seconds() == 300


@pytest.mark.parametrize("raw", ["abc", "0", "-5", "nan", "inf"])
def test_bad_seconds_setting_says_which_variable(raw: str, monkeypatch: pytest.MonkeyPatch):
    """A value that is not a positive number of seconds is rejected with the variable's name and value."""
    monkeypatch.setenv("ORDERHUB_REFRESH_SECONDS", raw)
    with pytest.raises(settings.SettingsError, match=rf"ORDERHUB_REFRESH_SECONDS='{raw}'"):
        settings.refresh_seconds()
