"""Running the suites with Great Expectations 1.x.

GX is slow to import (≈5 s) and to set up, so a process builds one ephemeral context, registers one pandas
dataframe asset and one expectation suite per suite, and then validates as many frames as it is given:
`validator().validate("orders", frame, scope="batch", batch=batch_id, channel="meituan")`.

Frames may be polars (what ingestion produces) or pandas: `prepare` derives the rule columns in polars and the
frame is converted to pandas, because GX 1.x does not read polars frames.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from functools import lru_cache
from typing import Any

import polars as pl

from data_quality.results import Outcome, Validation
from data_quality.suites import SUITES, SuiteParams

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# Expectations met on a frame are met on every subset of its rows: the per-row ones, and uniqueness (values
# unique in the whole are unique in a part). Aggregates (a mean, a row count) and `mostly` are not.
PARTITIONABLE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
    }
)
_RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
_LOCK = threading.Lock()


class Validator:
    """One GX ephemeral context with every suite registered (build once per process, validate many frames)."""

    def __init__(self, params: SuiteParams):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.params = params
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas("orderhub")
        self._batches: dict[str, Any] = {}
        self._suites: dict[str, Any] = {}
        for name, suite in SUITES.items():
            self._batches[name] = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            gx_suite = gx.ExpectationSuite(name=name, expectations=suite.expectations(params))
            self._suites[name] = self.context.suites.add(gx_suite)
        self._columns: dict[str, set[str]] = {}
        self._partitionable: set[str] = set()
        # Suites of some of a suite's expectations (those a whole batch failed), built on first use.
        self._partial_suites: dict[tuple[str, tuple[int, ...]], Any] = {}

    def columns(self, suite: str) -> set[str]:
        """The columns a suite's expectations read (after `prepare`)."""
        if suite not in self._columns:
            self._columns[suite] = self._read_columns(suite)
        return self._columns[suite]

    def _read_columns(self, suite: str) -> set[str]:
        out: set[str] = set()
        for expectation in self._suites[suite].expectations:
            config = expectation.configuration.kwargs
            for key in ("column", "column_A", "column_B"):
                if config.get(key):
                    out.add(config[key])
            out.update(config.get("column_list") or [])
            condition = getattr(expectation, "row_condition", None)
            if condition is not None:
                out.update(_condition_columns(condition))
        return out

    def validate(
        self, suite: str, frame: pl.DataFrame | Any, *, scope: str, batch: str, channel: str | None = None
    ) -> Validation:
        """Validate one frame with one suite; an empty frame is a validation of no rows (nothing to expect)."""
        started = time.perf_counter()
        spec = SUITES[suite]
        if not isinstance(frame, pl.DataFrame):
            frame = pl.from_pandas(frame)
        validation = Validation(suite, scope, batch, channel, rows=frame.height)
        if frame.height == 0:
            return validation
        prepared = spec.prepare(frame, self.params)
        if spec.findings is not None:
            validation.findings = spec.findings(prepared, self.params)
        validation.outcomes = self._run(suite, self._suites[suite], prepared)
        validation.seconds = time.perf_counter() - started
        return validation

    def validate_by(
        self, suite: str, frame: pl.DataFrame, *, scope: str, batch: str, column: str = "channel"
    ) -> list[Validation]:
        """One validation per value of `column` (each channel's part of a batch), at about the cost of one.

        GX spends about half a second per validation building its metric graph, whatever the rows, so six
        channels cost six times one. The whole frame is validated once instead. Every expectation of the
        suite must be row-wise or a uniqueness, without `mostly` (PARTITIONABLE; checked), so one met on the
        whole frame is met on each part, and each part gets it as met. Only what the whole frame failed is
        validated again, part by part, to say which channel broke it with what values: in a clean batch
        nothing, in a typical one a money rule or two. A met expectation's counts stay the whole frame's.
        """
        started = time.perf_counter()
        self._require_partitionable(suite)
        spec = SUITES[suite]
        prepared = spec.prepare(frame, self.params) if frame.height else frame
        whole = self._run(suite, self._suites[suite], prepared) if frame.height else []
        recheck = tuple(sorted({_key(o) for o in whole if not o.success or o.unexpected_count is None}))
        findings = spec.findings(prepared, self.params) if spec.findings is not None and frame.height else None
        out = []
        for (value,), part in sorted(prepared.group_by(column), key=lambda item: str(item[0][0])):
            validation = Validation(suite, scope, batch, value, rows=part.height)
            rechecked = (
                {_key(o): o for o in self._run(suite, self._partial_suite(suite, recheck), part)} if recheck else {}
            )
            validation.outcomes = [
                rechecked[_key(o)] if _key(o) in rechecked else _met_on_part(o, frame.height) for o in whole
            ]
            if findings is not None:
                keys = part["order_key"].unique().implode()
                validation.findings = findings.filter(pl.col("order_key").is_in(keys))
            out.append(validation)
        for validation in out:
            validation.seconds = (time.perf_counter() - started) / len(out)
        return out

    def _require_partitionable(self, suite: str) -> None:
        # Once per suite: reading an expectation's configuration is one of GX's slow paths.
        if suite in self._partitionable:
            return
        for expectation in self._suites[suite].expectations:
            kwargs = expectation.configuration.kwargs
            if expectation.expectation_type not in PARTITIONABLE or kwargs.get("mostly", 1) != 1:
                raise ValueError(
                    f"suite {suite!r} cannot be validated part by part: {expectation.expectation_type} "
                    f"(mostly={kwargs.get('mostly', 1)}) met on a whole frame need not be met on each part"
                )
        self._partitionable.add(suite)

    def _partial_suite(self, suite: str, keys: tuple[tuple[str, str], ...]):
        """A suite of those of `suite`'s expectations whose (label, rule) is in `keys`."""
        if (suite, keys) not in self._partial_suites:
            import great_expectations as gx

            wanted = set(keys)
            chosen = [
                e
                for e in SUITES[suite].expectations(self.params)
                if (_label(e.configuration), _rule(e.configuration)) in wanted
            ]
            name = f"{suite}[{len(self._partial_suites)}]"
            gx_suite = gx.ExpectationSuite(name=name, expectations=chosen)
            self._partial_suites[(suite, keys)] = self.context.suites.add(gx_suite)
        return self._partial_suites[(suite, keys)]

    def _run(self, suite: str, gx_suite: Any, prepared: pl.DataFrame) -> list[Outcome]:
        """The outcomes of `gx_suite` on a prepared frame."""
        needed = [c for c in prepared.columns if c in self.columns(suite)]
        pandas_frame = prepared.select(needed).to_pandas()
        with _LOCK:  # a GX context is not meant to be shared between threads
            result = (
                self._batches[suite]
                .get_batch(batch_parameters={"dataframe": pandas_frame})
                .validate(gx_suite, result_format=_RESULT_FORMAT)
            )
        return [_outcome(r) for r in result.results]


def _key(outcome: Outcome) -> tuple[str, str]:
    return outcome.expectation, outcome.rule


def _rule(config: Any) -> str:
    return (config.meta or {}).get("rule", config.type)


def _met_on_part(outcome: Outcome, whole_rows: int) -> Outcome:
    """An expectation the whole frame met, as the outcome of one part of it. Its counts are the whole frame's
    (GX counts only the rows a `row_condition` selects, and a part's share of those was not measured)."""
    return dataclasses.replace(
        outcome,
        observed_value=f"met on the whole batch ({whole_rows:,} rows): {outcome.observed_value}",
        element_count=None,
        unexpected_percent=None,
    )


@lru_cache(maxsize=4)
def validator(params: SuiteParams = SuiteParams()) -> Validator:
    return Validator(params)


def _condition_columns(condition: Any) -> set[str]:
    if hasattr(condition, "conditions"):
        return set().union(*(_condition_columns(c) for c in condition.conditions))
    column = getattr(condition, "column", None)
    return {column.name} if column is not None else set()


def _label(config: Any) -> str:
    kwargs = config.kwargs
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)] + list(
        kwargs.get("column_list") or []
    )
    label = f"{config.type}({', '.join(columns)})"
    condition = kwargs.get("row_condition")
    if condition:
        label += (
            f" where {condition!r}"
            if not isinstance(condition, dict)
            else f" where {json.dumps(condition, default=str)}"
        )
    return label


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome(result: Any) -> Outcome:
    config = result.expectation_config
    details = result.result or {}
    severity = str(getattr(config, "severity", None) or (config.meta or {}).get("severity") or "critical")
    severity = severity.split(".")[-1].lower()
    rule = _rule(config)
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = result.exception_info.get("exception_message") or "the expectation could not be evaluated"
        return Outcome(_label(config), rule, severity, False, _text(f"error: {message}", 300))
    unexpected = details.get("unexpected_count")
    element_count = details.get("element_count")
    if "observed_value" in details:
        observed = _text(details["observed_value"], 300)
    elif unexpected is not None:
        observed = f"{unexpected:,} of {element_count:,} unexpected"
    else:
        observed = ""
    # GX samples the first unexpected values in frame order, which a reload can shuffle; sorted, the same
    # failure names the same orders every time.
    sample = sorted(details.get("partial_unexpected_list") or [], key=lambda v: (v is None, str(v)))
    return Outcome(
        expectation=_label(config),
        rule=rule,
        severity=severity,
        success=bool(result.success),
        observed_value=observed,
        element_count=element_count,
        unexpected_count=unexpected,
        unexpected_percent=details.get("unexpected_percent"),
        unexpected_sample=_text(sample[:5], 500) if sample else None,
    )
