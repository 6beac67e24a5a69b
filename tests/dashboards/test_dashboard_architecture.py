"""The dashboards' architecture rules (DESIGN.md), checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
QUERIES = DASHBOARDS / "queries"
SQL = re.compile(r"\bselect\b[\s\S]*\bfrom\b|\b(create|insert|update|delete)\b\s+\w", re.IGNORECASE)


def _modules() -> list[Path]:
    return sorted(DASHBOARDS.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (``a.b`` for ``import a.b`` and ``from a.b import c``)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_dashboards_import_neither_orchestration_nor_ingestion():
    """The dashboards read only the serving snapshot: no module imports the pipeline's packages."""
    for path in _modules():
        for name in _imports(path):
            assert name.split(".")[0] not in {"orchestration", "ingestion"}, f"{path}: imports {name}"


def test_sql_lives_only_in_the_queries_package():
    """No module outside dashboards/queries/ (the snapshot reader and one module per page) holds SQL text."""
    assert len(_modules()) > 3
    assert QUERIES.is_dir() and len(list(QUERIES.glob("*.py"))) > 3
    for path in _modules():
        if path.is_relative_to(QUERIES):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not SQL.search(node.value), f"{path}: SQL outside dashboards/queries/: {node.value[:60]!r}"


def test_workbook_writer_needs_nothing_of_the_app():
    """dashboards/workbook.py is also `orderhub recon report`'s writer: it imports neither Streamlit nor another
    dashboards module, so the CLI that imports it loads nothing of the app."""
    for name in _imports(DASHBOARDS / "workbook.py"):
        assert name.split(".")[0] not in {"streamlit", "dashboards", "pandas"}, f"workbook.py imports {name}"
