"""Running the suites with Great Expectations 1.x.

GX is slow to import (≈5 s) and to set up, so a process builds one ephemeral context, registers one pandas
dataframe asset and one expectation suite per suite, and then validates as many frames as it is given:
`validator().validate("orders", frame, scope="batch", batch=batch_id, channel="meituan")`.

Frames may be polars (what ingestion produces) or pandas: `prepare` derives the rule columns in polars and the
frame is converted to pandas, because GX 1.x does not read polars frames.
"""

from __future__ import annotations

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

    def columns(self, suite: str) -> set[str]:
        """The columns a suite's expectations read (after `prepare`)."""
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
        needed = [c for c in prepared.columns if c in self.columns(suite)]
        pandas_frame = prepared.select(needed).to_pandas()
        with _LOCK:  # a GX context is not meant to be shared between threads
            result = (
                self._batches[suite]
                .get_batch(batch_parameters={"dataframe": pandas_frame})
                .validate(self._suites[suite], result_format=_RESULT_FORMAT)
            )
        validation.outcomes = [_outcome(r) for r in result.results]
        validation.seconds = time.perf_counter() - started
        return validation


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
    rule = (config.meta or {}).get("rule", config.type)
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
