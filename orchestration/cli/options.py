"""Options several commands share, spelled once so their help and type stay alike."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# An option left out falls back to the environment (README: settings), then to the embedded default.
WAREHOUSE = Annotated[Path, typer.Option(help="DuckDB warehouse file", envvar="ORDERHUB_WAREHOUSE")]
DEFAULT_WAREHOUSE = Path("warehouse/orderhub.duckdb")
SERVING = Annotated[Path | None, typer.Option(help="serving snapshot (default: serving.duckdb beside the warehouse)")]
