"""dbt_project/README.md lists every model and every var the models read, so it cannot drift from the project."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
README = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")


def _models_on_disk() -> set[str]:
    return {p.stem for p in (PROJECT_DIR / "models").rglob("*") if p.suffix in (".sql", ".py")}


def _models_in_readme() -> set[str]:
    # A model is named in backticks, whole: `int_merging__*` or `stg_raw__<table>` are patterns, not names.
    return set(re.findall(r"`((?:stg|int|fct)_[a-z0-9_]+)`", README))


def _vars_read() -> set[str]:
    pattern = re.compile(r"""var\(\s*['"]([a-z_]+)['"]""")
    return {
        name
        for folder in ("models", "macros", "tests")
        for path in (PROJECT_DIR / folder).rglob("*")
        if path.is_file()
        for name in pattern.findall(path.read_text(encoding="utf-8"))
    }


def test_every_model_is_in_the_readme() -> None:
    assert _models_on_disk() - _models_in_readme() == set()


def test_the_readme_names_only_models_that_exist() -> None:
    assert _models_in_readme() - _models_on_disk() == set()


def test_every_var_the_models_read_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_]+)`", README))
    assert _vars_read()
    assert _vars_read() - documented == set()
