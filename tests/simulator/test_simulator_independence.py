"""The simulator's ground truth is independent of the pipeline it checks: it reads none of the pipeline's rules
and imports nothing of the project but the landing contract."""

from __future__ import annotations

from pathlib import Path

from landing_reader import ROOT

from simulator.rules import merge_window_from_rules


def test_simulator_reads_none_of_the_pipelines_rules(tmp_path: Path) -> None:
    """The world keeps its own numbers: a rules file saying 45 minutes changes nothing, and no simulator
    module mentions rules.yml handling, the orchestration rules or the reconciliation's fee vars."""
    rules = tmp_path / "rules.yml"
    rules.write_text("merge_window_minutes: 45\n", encoding="utf-8")
    assert merge_window_from_rules(rules) == 30
    modules = sorted((ROOT / "simulator").rglob("*.py"))
    assert modules, "the simulator package moved: point this check at it"
    for module in modules:
        code = "\n".join(
            line for line in module.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#")
        )
        for banned in ("RULES_PATH", "orchestration", "recon_fee_rates", "import yaml", "dbt_project"):
            assert banned not in code, f"{module.name} uses {banned}"


def test_simulator_imports_only_the_landing_contract_of_the_pipeline() -> None:
    """Ground truth is only independent if the simulator applies the business definitions on its own: of the
    project it may import ingestion.contract (channel names, which feeds the landing contract has) and
    nothing else; outside the project, the standard library, numpy and orjson."""
    import ast
    import sys

    allowed = set(sys.stdlib_module_names) | {"numpy", "orjson"}
    for module in sorted((ROOT / "simulator").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] if node.module != "ingestion" else [f"ingestion.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                assert name == "ingestion.contract" or name.split(".")[0] in allowed, f"{module.name} imports {name}"
