"""The reference data the gateway needs, read from the landing zone the batch pipeline reads.

The gateway runs beside the Dagster run, which is the warehouse's one writer (DuckDB allows no reader while it
writes), so it takes stores, products and WMS stock straight from `landing/reference/` with the batch path's
own parser: the same rows, the same quarantine rules.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingestion import contract, landing, reference
from ingestion.adapters.base import Catalogue
from ingestion.records import FileError, decode_text, jsonl_records


def reference_files(landing_root: Path, table: str) -> list[Path]:
    """The table's files in write order (business day, then name); hidden and temporary names skipped."""
    base = landing_root / "reference" / table
    files = [path for path in base.glob("*/*") if landing.visible(path)]
    return sorted(files, key=lambda p: (p.parent.name, p.name))


def read_table(files: list[Path], table: str, landing_root: Path) -> pl.DataFrame:
    """The typed rows of these files; rows the batch path would quarantine are left out here (it reports them)."""
    frames = []
    for path in files:
        relative = path.relative_to(landing_root).as_posix()
        try:
            records = list(jsonl_records(decode_text(path.read_bytes(), relative), relative))
        except FileError:
            continue
        frames.append(reference.parse(table, records).rows)
    columns, _ = contract.REFERENCE_TABLES[table]
    return pl.concat(frames, how="vertical_relaxed") if frames else contract.empty_frame(columns)


def load_catalogue(landing_root: Path) -> Catalogue:
    stores = read_table(reference_files(landing_root, "stores"), "stores", landing_root)
    products = read_table(reference_files(landing_root, "products"), "products", landing_root)
    products = products.unique("sku_id", keep="last").select(
        "sku_id",
        pl.col("weight_g").cast(pl.Int32),
        pl.col("volume_ml").cast(pl.Int32),
        pl.col("temp_zone").cast(pl.String),
    )
    return Catalogue(store_ids=frozenset(stores["store_id"].to_list()), products=products)


def product_categories(landing_root: Path) -> dict[str, str]:
    products = read_table(reference_files(landing_root, "products"), "products", landing_root)
    return {row["sku_id"]: row["category"] for row in products.unique("sku_id", keep="last").iter_rows(named=True)}
