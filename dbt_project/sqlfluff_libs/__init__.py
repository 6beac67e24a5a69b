"""Jinja context for sqlfluff (library_path in .sqlfluff): dbt's `var()` with the real rules.

sqlfluff's own dbt stand-in returns a placeholder for every var, which breaks models that loop over a rule
(`var('channel_allocation').items()`); the models are linted as they compile, with config/rules.yml.
"""

from pathlib import Path

import yaml

_RULES = yaml.safe_load((Path(__file__).resolve().parents[2] / "config" / "rules.yml").read_text(encoding="utf-8"))


def var(name, default=None):
    return _RULES.get(name, default)


class exceptions:  # noqa: N801 - dbt's name for its exceptions namespace
    @staticmethod
    def raise_compiler_error(message):
        raise RuntimeError(message)


# dbt's graph of the project's nodes and the invocation's selection (macros/batch_keys.sql reads them): none
# here, so the models lint with the key lists' subquery form.
graph: dict = {"nodes": {}, "sources": {}}
selected_resources: list = []
