"""The simulator's ground truth is independent of the pipeline it checks: it takes none of the pipeline's
configuration and imports nothing of the project but the landing contract."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from landing_reader import ROOT

from simulator import load_truth, simulate_day

# What would show that a module takes its numbers from the pipeline: its configuration files and loaders, the
# orchestration, the dbt project and the reconciliation's fee vars.
PIPELINE_CONFIGURATION = (
    "rules.yml",
    "config/",
    "_from_rules",
    "load_rules",
    "RULES_PATH",
    "ORDERHUB_RULES",
    "orchestration",
    "recon_fee_rates",
    "import yaml",
    "dbt_project",
)


def test_the_pipelines_configuration_changes_nothing_in_the_world(tmp_path: Path, monkeypatch) -> None:
    """Pointing the pipeline at a rules file with a 45-minute merge window leaves the simulated truth at the
    business definition's 30 minutes."""
    rules = tmp_path / "rules.yml"
    rules.write_text("merge_window_minutes: 45\n", encoding="utf-8")
    monkeypatch.setenv("ORDERHUB_RULES", str(rules))
    day = dt.date(2026, 11, 26)
    simulate_day(day, orders=200, seed=5, out=tmp_path / "landing")
    assert load_truth(tmp_path / "landing", day)["merge_window_minutes"] == 30


@pytest.mark.parametrize("module", sorted((ROOT / "simulator").rglob("*")), ids=lambda p: p.name)
def test_no_simulator_file_mentions_the_pipelines_configuration(module: Path) -> None:
    if module.is_dir() or module.suffix not in (".py", ".md"):
        return
    text = module.read_text(encoding="utf-8")
    for banned in PIPELINE_CONFIGURATION:
        assert banned not in text, f"{module.name} mentions {banned}"


def test_simulator_imports_only_the_landing_contract_of_the_pipeline() -> None:
    """Ground truth is only independent if the simulator applies the business definitions on its own: of the
    project it may import ingestion.contract (channel names, which feeds the landing contract has) and
    nothing else; outside the project, the standard library, numpy and orjson."""
    import ast
    import sys

    allowed = set(sys.stdlib_module_names) | {"numpy", "orjson"}
    # The live load client speaks HTTP to a gateway; it holds no business rule, so its HTTP library is fine.
    http_client = ROOT / "simulator" / "live" / "client.py"
    for module in sorted((ROOT / "simulator").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] if node.module != "ingestion" else [f"ingestion.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                ok = name.split(".")[0] in allowed or (module == http_client and name == "httpx")
                assert name == "ingestion.contract" or ok, f"{module.name} imports {name}"
