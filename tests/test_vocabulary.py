"""One vocabulary: the time zone and the channel names are stated once, in the landing contract
(`ingestion/contract.py`); every other place that must repeat them (the rules file dbt reads, the dashboards,
which may not import the pipeline, the dbt tests' accepted values) is held to it here."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from dashboards.queries import reader
from dashboards.queries.reconciliation import SETTLEMENT_CHANNELS as DASHBOARD_SETTLEMENT_CHANNELS
from ingestion import contract

ROOT = Path(__file__).resolve().parents[1]
RULES = yaml.safe_load((ROOT / "config" / "rules.yml").read_text(encoding="utf-8"))


def test_rules_file_names_the_contract_time_zone():
    assert RULES["local_timezone"] == contract.LOCAL_TIMEZONE


@pytest.mark.parametrize("day", [datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12)])
def test_dashboards_fixed_offset_is_the_time_zone_all_year(day):
    """The dashboards convert with a fixed offset (no DST in Asia/Shanghai since 1991): it must be the zone's."""
    assert ZoneInfo(contract.LOCAL_TIMEZONE).utcoffset(day) == reader.LOCAL_OFFSET
    assert reader.TO_LOCAL == f"INTERVAL {int(reader.LOCAL_OFFSET.total_seconds() // 3600)} HOUR"


def test_dashboards_list_the_contract_channels():
    assert reader.KNOWN_CHANNELS == contract.CHANNELS
    assert DASHBOARD_SETTLEMENT_CHANNELS == contract.SETTLEMENT_CHANNELS


def test_rules_name_only_contract_channels():
    sales, settlement = set(contract.CHANNELS), set(contract.SETTLEMENT_CHANNELS)
    assert set(RULES["stock_feed_channels"]) <= sales
    assert set(RULES["recon_platform_channels"]) <= sales & settlement
    assert set(RULES["recon_platform_keeps_delivery_fee"]) <= sales & settlement
    assert set(RULES["recon_fee_rates"]) <= settlement


def _accepted_channel_values() -> list[tuple[str, str, tuple[str, ...]]]:
    """(yml file, column, values) of every accepted_values test on a channel column of the dbt models."""
    found = []
    for path in sorted((ROOT / "dbt_project" / "models").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for node in document.get("models", []) + document.get("sources", []):
            tables = node.get("tables", [node])
            for table in tables:
                for column in table.get("columns", []) or []:
                    if column.get("name") not in ("channel", "settlement_channel"):
                        continue
                    for test in column.get("data_tests") or column.get("tests") or []:
                        if isinstance(test, dict) and "accepted_values" in test:
                            spec = test["accepted_values"]
                            values = spec.get("values") or spec.get("arguments", {}).get("values")
                            found.append((path.name, f"{table.get('name')}.{column['name']}", tuple(values)))
    return found


def test_dbt_accepted_channel_values_are_the_contracts():
    found = _accepted_channel_values()
    assert found, "no accepted_values test on a channel column was found: the yml layout changed"
    for path, column, values in found:
        expected = contract.SETTLEMENT_CHANNELS if column.endswith("settlement_channel") else contract.CHANNELS
        assert set(values) == set(expected), (path, column, values)
