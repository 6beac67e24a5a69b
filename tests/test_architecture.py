"""Which of our packages may import which, checked on the source (every import statement, at any depth).

The design: `orchestration` is the only package that wires the others together (Dagster, the CLI). The
packages it wires know nothing of it, nor of the dashboards:

- `dispatch` (routing) imports nothing of ours;
- `simulator` imports nothing of ours but the landing contract (`ingestion.contract`): its ground truth
  must stay independent of the pipeline it checks;
- `ingestion` imports nothing of ours (in particular not the simulator);
- `data_quality` imports only `ingestion` (the contract, the adapters a replay goes through);
- `history` (the ClickHouse store) imports only `ingestion` (the contract of the tables it copies);
- `dashboards` read the serving snapshot only: they import nothing of ours;
- `orchestration` imports the simulator only in the CLI (`simulate`, and `dq report --truth`, which compares
  a simulated day's accounting with its ground truth), and of the dashboards only
  `dashboards.workbook` (the finance workbook writer, which needs nothing of the app: `orderhub recon report`
  writes the same file as the reconciliation page's download).

A package that does not exist is skipped.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("simulator", "ingestion", "data_quality", "dispatch", "history", "orchestration", "dashboards")

# package -> the packages it may import.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "dispatch": frozenset(),
    "simulator": frozenset({"ingestion"}),
    "ingestion": frozenset(),
    "data_quality": frozenset({"ingestion"}),
    "history": frozenset({"ingestion"}),
    "dashboards": frozenset(),
    "orchestration": frozenset({"ingestion", "data_quality", "dispatch", "history", "simulator", "dashboards"}),
}
# What the simulator may take from ingestion: the contract, and nothing of the pipeline.
SIMULATOR_MAY_IMPORT_FROM_INGESTION = ("ingestion.contract",)
# What orchestration may take from the dashboards: the workbook writer, never the app or its queries.
ORCHESTRATION_MAY_IMPORT_FROM_DASHBOARDS = ("dashboards.workbook",)
# The only orchestration folder that may import the simulator: the command line that fronts it.
SIMULATOR_IMPORTERS = "orchestration/cli/"
# Imports that break the rules above today, each with why it is still there. Listed, not hidden: remove an
# entry when it is fixed (the test fails on an entry that no longer occurs).
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _package_of(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in PACKAGES else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module (or module.name) `path` imports, relative imports made absolute."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _violations(package: str) -> set[tuple[str, str, str]]:
    """(file, imported module, its package) for each import of `package`'s files the rules forbid."""
    out = set()
    for path in _sources(package):
        relative = path.relative_to(ROOT).as_posix()
        for module in _imports(path):
            target = _package_of(module)
            if target is None or target == package:
                continue
            allowed = target in MAY_IMPORT[package]
            if package == "simulator" and target == "ingestion":
                allowed = any(module == m or module.startswith(m + ".") for m in SIMULATOR_MAY_IMPORT_FROM_INGESTION)
            if package == "orchestration" and target == "simulator":
                allowed = relative.startswith(SIMULATOR_IMPORTERS)
            if package == "orchestration" and target == "dashboards":
                allowed = any(
                    module == m or module.startswith(m + ".") for m in ORCHESTRATION_MAY_IMPORT_FROM_DASHBOARDS
                )
            if not allowed:
                out.add((relative, module, target))
    return out


EXISTING = [package for package in PACKAGES if _sources(package)]


@pytest.mark.parametrize("package", EXISTING)
def test_package_imports_only_what_the_design_allows(package):
    found = {v for v in _violations(package) if (v[0], v[2]) not in KNOWN_VIOLATIONS}
    assert not found, f"{package} imports what it may not (file, module, package): {sorted(found)}"


def test_known_violations_still_occur():
    """An entry of KNOWN_VIOLATIONS that no longer occurs is removed, so the list says what is still to fix."""
    found = {(file, target) for package in EXISTING for file, _, target in _violations(package)}
    assert KNOWN_VIOLATIONS <= found, f"fixed, remove from KNOWN_VIOLATIONS: {sorted(KNOWN_VIOLATIONS - found)}"


def test_the_rules_see_the_packages():
    """The check reads real code: each package has modules, and orchestration's imports are found."""
    assert {"ingestion", "dispatch", "orchestration", "dashboards", "simulator"} <= set(EXISTING)
    cli = _imports(ROOT / "orchestration" / "cli" / "simulate.py")
    assert any(_package_of(module) == "simulator" for module in cli)


def test_orchestration_layers():
    """Inside orchestration: the domain folders never import the assembly (definitions), the runner (pipeline)
    or the CLI; nothing but the CLI itself imports the CLI."""
    for path in sorted((ROOT / "orchestration").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for module in _imports(path):
            if relative.startswith("orchestration/defs/"):
                assert not module.startswith(
                    ("orchestration.definitions", "orchestration.pipeline", "orchestration.cli")
                ), f"{relative} imports {module}"
            if not relative.startswith("orchestration/cli/"):
                assert not module.startswith("orchestration.cli"), f"{relative} imports {module}"
