"""Dagster resources: the paths a run works on, as one configurable resource."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from orchestration.settings import Settings


class OrderhubPaths(dg.ConfigurableResource):
    landing: str
    warehouse: str
    serving: str
    rules: str

    @classmethod
    def from_settings(cls, settings: Settings) -> OrderhubPaths:
        return cls(landing=str(settings.landing), warehouse=str(settings.warehouse),
                   serving=str(settings.serving), rules=str(settings.rules))

    @property
    def landing_path(self) -> Path:
        return Path(self.landing)

    @property
    def warehouse_path(self) -> Path:
        return Path(self.warehouse)

    @property
    def serving_path(self) -> Path:
        return Path(self.serving)
