"""Harness for the dbt project tests: dbt run as a subprocess exactly as the orchestrator runs it
(vars from config/rules.yml, warehouse from ORDERHUB_WAREHOUSE), the raw schema from the contract, and a
small hand-written dataset. Fixtures live in conftest.py; this module has a unique name so tests can
import its helpers without clashing with other folders' conftest modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from ingestion.contract import all_tables, raw_schema_ddl
from orchestration.defs.transform.dbt import location_flags
from orchestration.rules import dbt_vars

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = ROOT / "dbt_project"
RULES_FILE = ROOT / "config" / "rules.yml"


def dbt_args(workdir: Path, as_of: str | None, **extra_vars) -> list[str]:
    """The arguments every dbt invocation of a test shares: this project, its target and logs under
    `workdir`, the rules and clock as vars (as the orchestrator passes them), and any `extra_vars`."""
    clock = {"as_of": as_of} if as_of else {}
    return [
        *location_flags(PROJECT_DIR, PROJECT_DIR, workdir / "target", workdir / "logs"),
        "--vars",
        dbt_vars(RULES_FILE, **clock, **extra_vars),
    ]


def replay_as_of(warehouse: Path) -> str | None:
    """The clock these fixtures are replayed at: their newest order (what they were written against; the
    dataset below says what is late at it). None for a warehouse without orders."""
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = con.execute("select max(created_at) from raw.orders").fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        con.close()
    return found[0].strftime("%Y-%m-%d %H:%M:%S") if found and found[0] else None


def dbt_executable() -> str:
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("dbt")
    if found is None:
        raise RuntimeError("dbt is not installed in this environment (expected beside the Python interpreter)")
    return found


@dataclass
class DbtResult:
    returncode: int
    stdout: str
    target_path: Path

    def run_results(self) -> list[dict[str, Any]]:
        """The models' and tests' results; the project's on-run-start hooks (operations) are left out."""
        data = json.loads((self.target_path / "run_results.json").read_text(encoding="utf-8"))
        return [r for r in data["results"] if not r["unique_id"].startswith("operation.")]

    def status_of(self, name_part: str) -> list[str]:
        return [r["status"] for r in self.run_results() if name_part in r["unique_id"]]


def run_dbt(args: Sequence[str], warehouse: Path, workdir: Path, as_of: str | None = None) -> DbtResult:
    """Run one dbt command against `warehouse`, keeping target/ and logs/ inside `workdir`, at the clock
    `as_of` (naive UTC; default: the warehouse's newest order, see replay_as_of)."""
    as_of = as_of or replay_as_of(warehouse)
    target_path = workdir / "target"
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "ORDERHUB_WAREHOUSE": str(warehouse),
    }
    cmd = [dbt_executable(), *args, *dbt_args(workdir, as_of)]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600
    )
    return DbtResult(proc.returncode, proc.stdout, target_path)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert dict rows into raw.<table>; columns a row leaves out are NULL."""
    columns = list(all_tables()[table])
    for row in rows:
        unknown = set(row) - set(columns)
        assert not unknown, f"raw.{table} has no column(s) {sorted(unknown)}"
        placeholders = ", ".join("?" for _ in columns)
        con.execute(
            f"insert into raw.{table} ({', '.join(columns)}) values ({placeholders})",
            [row.get(col) for col in columns],
        )


def ts(text: str) -> datetime:
    """A naive UTC timestamp, as the contract stores them."""
    return datetime.fromisoformat(text)


def money(text: str) -> Decimal:
    return Decimal(text)


# ---------------------------------------------------------------------------------------------------
# The dataset. Times are UTC; local (Asia/Shanghai) is +8h. Business day 2026-11-26 local, except the
# two meituan orders that straddle local midnight. The tests run dbt at as_of = max(created_at) = 03:00 UTC
# (pos:T1), so with late_risk_minutes 15 an open delivery order promised before 03:15 UTC is at risk.
# ---------------------------------------------------------------------------------------------------

GOOD_ADDRESS = {
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "admin_code": "310115",
    "lat": 31.2035,
    "lng": 121.5903,
    "address_raw": "上海市浦东新区张江镇碧波路690号",
}
NO_DISTRICT = {"address_raw": "碧波路附近小区门口", "admin_code": None, "lat": 31.2, "lng": 121.59}
NO_COORDS = {**GOOD_ADDRESS, "lat": None, "lng": None}


def order(
    key: str,
    created: str,
    *,
    fulfilment: str = "delivery",
    status: str = "paid",
    goods: str = "10.00",
    paid: str = "10.00",
    payment: str = "wechat",
    paid_at: str | None = None,
    promised_to: str | None = None,
    address: Mapping[str, Any] = GOOD_ADDRESS,
    batch: str = "b1",
    raw_hash: str | None = None,
    store: str = "SH001",
) -> dict[str, Any]:
    channel, channel_order_id = key.split(":", 1)
    return {
        "order_key": key,
        "channel": channel,
        "channel_order_id": channel_order_id,
        "store_id": store,
        "channel_user_id": f"u-{channel_order_id}",
        "recipient_name": "张伟",
        "phone": "13812345678",
        "phone_kind": "mobile",
        "phone_last4": "5678",
        **address,
        "created_at": ts(created),
        "paid_at": ts(paid_at) if paid_at else None,
        "promised_to": ts(promised_to) if promised_to else None,
        "status": status,
        "goods_amount": money(goods),
        "merchant_discount": money("0.00"),
        "platform_discount": money("0.00"),
        "delivery_fee": money("0.00"),
        "packaging_fee": money("0.00"),
        "paid_amount": money(paid),
        "payment_method": payment,
        "fulfilment_type": fulfilment,
        "batch_id": batch,
        "source_file": f"orders/{channel}/2026-11-26/{channel}-000000-00001",
        "source_line": 1,
        "raw_hash": raw_hash or f"hash-{key}",
    }


def line(
    key: str,
    line_no: int,
    sku: str,
    qty: int,
    unit_weight_g: int,
    unit_volume_ml: int,
    zone: str,
    price: str = "5.00",
    batch: str = "b1",
) -> dict[str, Any]:
    """An order line; weight_g / volume_ml are stored as line totals, as the contract says. `batch` is its
    order version's batch (the loader writes a version's row and lines with the same one)."""
    return {
        "order_key": key,
        "line_no": line_no,
        "sku_id": sku,
        "channel_sku": sku,
        "name": sku,
        "quantity": qty,
        "unit_price": money(price),
        "original_price": money(price),
        "line_discount": money("0.00"),
        "paid_amount": money(price) * qty,
        "weight_g": unit_weight_g * qty,
        "volume_ml": unit_volume_ml * qty,
        "temp_zone": zone,
        "batch_id": batch,
    }


def event(key: str, status: str, at: str, received: str | None = None, batch: str = "b1") -> dict[str, Any]:
    return {
        "order_key": key,
        "status": status,
        "event_time": ts(at),
        "received_at": ts(received or at),
        "source": "push",
        "batch_id": batch,
    }


BASE_ORDERS = [
    # Delivered; its 'delivered' event arrived before 'dispatched' (see BASE_EVENTS order).
    order(
        "app:APP1",
        "2026-11-26 02:05:00",
        goods="30.00",
        paid="28.00",
        paid_at="2026-11-26 02:05:30",
        promised_to="2026-11-26 03:00:00",
    ),
    # Address did not resolve to a district -> bad_address. Promise well after now+15min -> not late.
    order(
        "app:APP2",
        "2026-11-26 02:40:00",
        goods="20.00",
        paid="21.50",
        paid_at="2026-11-26 02:40:30",
        promised_to="2026-11-26 04:00:00",
        address=NO_DISTRICT,
    ),
    # Cancelled, unpaid, unresolved address: closed, so no exception at all.
    order("app:APP3", "2026-11-26 02:45:00", goods="15.00", paid="15.00", status="created", address=NO_DISTRICT),
    # Picking, promised 02:50 < now+15min (03:15) -> late_risk.
    order(
        "miniprogram:MP1",
        "2026-11-26 02:20:00",
        goods="45.00",
        paid="42.00",
        paid_at="2026-11-26 02:20:10",
        promised_to="2026-11-26 02:50:00",
    ),
    # 16:30 UTC = 00:30 local on 2026-11-26. 'cancelled' and 'dispatched' share a timestamp: cancelled wins.
    order(
        "meituan:MT1",
        "2026-11-25 16:30:00",
        goods="40.00",
        paid="38.00",
        payment="online",
        paid_at="2026-11-25 16:30:05",
        promised_to="2026-11-25 17:30:00",
    ),
    # 15:59 UTC = 23:59 local on 2026-11-25. Cash on delivery, never paid online: not payment_missing.
    order(
        "meituan:MT2",
        "2026-11-25 15:59:00",
        goods="25.00",
        paid="25.00",
        payment="cash_on_delivery",
        promised_to="2026-11-25 16:50:00",
    ),
    # No coordinates but a parsed address -> not bad_address; online, unpaid, not cancelled -> payment_missing; ASAP -> never late.
    order(
        "eleme:EL1",
        "2026-11-26 02:50:00",
        goods="33.00",
        paid="30.00",
        payment="online",
        status="created",
        address=NO_COORDS,
    ),
    # Till sale, no status events at all: the ingested status is the current one. Latest order = "now".
    order(
        "pos:T1",
        "2026-11-26 03:00:00",
        fulfilment="in_store",
        goods="12.00",
        paid="12.00",
        payment="cash",
        paid_at="2026-11-26 03:00:00",
        status="delivered",
        address={},
    ),
    # Self pickup without an address: not an address problem.
    order(
        "groupbuy:G1",
        "2026-11-26 01:00:00",
        fulfilment="self_pickup",
        goods="18.00",
        paid="16.00",
        paid_at="2026-11-26 01:00:30",
        address={},
    ),
]

BASE_LINES = [
    line("app:APP1", 1, "SKU0012", 2, 300, 500, "chilled"),
    line("app:APP1", 2, "SKU0100", 1, 5000, 6000, "ambient"),
    line("app:APP2", 1, "SKU0012", 4, 300, 500, "chilled"),
    line("app:APP3", 1, "SKU0100", 1, 5000, 6000, "ambient"),
    line("miniprogram:MP1", 1, "SKU0300", 3, 500, 800, "frozen"),
    line("miniprogram:MP1", 2, "SKU0012", 1, 300, 500, "chilled"),
    line("meituan:MT1", 1, "SKU0100", 2, 5000, 6000, "ambient"),
    line("meituan:MT2", 1, "SKU0012", 1, 300, 500, "chilled"),
    line("eleme:EL1", 1, "SKU0012", 1, 300, 500, "chilled"),
    line("pos:T1", 1, "SKU0100", 1, 5000, 6000, "ambient"),
    line("groupbuy:G1", 1, "SKU0300", 2, 500, 800, "frozen"),
]

# Listed (and inserted) in arrival order.
BASE_EVENTS = [
    event("app:APP1", "created", "2026-11-26 02:05:00"),
    event("app:APP1", "paid", "2026-11-26 02:05:30"),
    event("app:APP1", "picking", "2026-11-26 02:10:00"),
    event("app:APP1", "delivered", "2026-11-26 02:50:00"),
    event("app:APP1", "dispatched", "2026-11-26 02:30:00", received="2026-11-26 02:51:00"),
    # The channel re-sent 'paid' a few seconds later: a second 'paid' row, which must not move paid_at.
    event("app:APP1", "paid", "2026-11-26 02:05:33", received="2026-11-26 02:52:00"),
    event("app:APP2", "created", "2026-11-26 02:40:00"),
    event("app:APP2", "paid", "2026-11-26 02:40:30"),
    event("app:APP3", "created", "2026-11-26 02:45:00"),
    event("app:APP3", "cancelled", "2026-11-26 02:47:00"),
    event("miniprogram:MP1", "created", "2026-11-26 02:20:00"),
    event("miniprogram:MP1", "picking", "2026-11-26 02:25:00"),
    event("miniprogram:MP1", "paid", "2026-11-26 02:20:10", received="2026-11-26 02:26:00"),
    event("meituan:MT1", "created", "2026-11-25 16:30:00"),
    event("meituan:MT1", "paid", "2026-11-25 16:30:05"),
    event("meituan:MT1", "cancelled", "2026-11-25 16:40:00"),
    event("meituan:MT1", "dispatched", "2026-11-25 16:40:00", received="2026-11-25 16:40:02"),
    event("meituan:MT2", "created", "2026-11-25 15:59:00"),
    event("meituan:MT2", "dispatched", "2026-11-25 16:20:00"),
    event("meituan:MT2", "delivered", "2026-11-25 16:45:00"),
    event("eleme:EL1", "created", "2026-11-26 02:50:00"),
    event("groupbuy:G1", "created", "2026-11-26 01:00:00"),
    event("groupbuy:G1", "paid", "2026-11-26 01:00:30"),
]

BASE_QUARANTINE = [
    {
        "channel": "meituan",
        "source_file": "orders/meituan/2026-11-26/meituan-020000-00003.jsonl",
        "source_line": 7,
        "raw": '{"order_id": ',
        "error_code": "bad_json",
        "message": "line 7: not valid JSON",
        "batch_id": "b1",
        "quarantined_at": ts("2026-11-26 02:55:00"),
    },
]

BASE_BATCHES = [
    # meituan: 4 records landed: 2 loaded, 1 quarantined, 1 duplicate.
    {
        "batch_id": "b1",
        "channel": "meituan",
        "files": 2,
        "landed": 4,
        "loaded": 2,
        "quarantined": 1,
        "duplicate": 1,
        "started_at": ts("2026-11-26 03:01:00"),
        "finished_at": ts("2026-11-26 03:01:05"),
    },
    {
        "batch_id": "b1",
        "channel": "app",
        "files": 1,
        "landed": 3,
        "loaded": 3,
        "quarantined": 0,
        "duplicate": 0,
        "started_at": ts("2026-11-26 03:01:00"),
        "finished_at": ts("2026-11-26 03:01:04"),
    },
    {
        "batch_id": "b1",
        "channel": "pos",
        "files": 1,
        "landed": 1,
        "loaded": 1,
        "quarantined": 0,
        "duplicate": 0,
        "started_at": ts("2026-11-26 03:01:00"),
        "finished_at": ts("2026-11-26 03:01:02"),
    },
]

BASE_FILES = [
    {
        "path": "orders/meituan/2026-11-26/meituan-020000-00003.jsonl",
        "kind": "orders",
        "channel": "meituan",
        "size_bytes": 4096,
        "batch_id": "b1",
        "records": 3,
        "done_at": ts("2026-11-26 03:01:05"),
    },
    {
        "path": "orders/app/2026-11-26/app-020000-00001.jsonl",
        "kind": "orders",
        "channel": "app",
        "size_bytes": 2048,
        "batch_id": "b1",
        "records": 3,
        "done_at": ts("2026-11-26 03:01:04"),
    },
]

BASE_STORES = [
    {
        "store_id": "SH001",
        "name": "张江店",
        "kind": "dark_store",
        "city": "上海市",
        "district": "浦东新区",
        "address": "碧波路690号",
        "lat": 31.2035,
        "lng": 121.5903,
    },
]

BASE_PRODUCTS = [
    {
        "sku_id": "SKU0012",
        "name": "有机菠菜 300g",
        "category": "vegetables",
        "unit_price": money("6.90"),
        "weight_g": 300,
        "volume_ml": 500,
        "temp_zone": "chilled",
    },
    {
        "sku_id": "SKU0100",
        "name": "东北大米 5kg",
        "category": "grain",
        "unit_price": money("39.90"),
        "weight_g": 5000,
        "volume_ml": 6000,
        "temp_zone": "ambient",
    },
    {
        "sku_id": "SKU0300",
        "name": "速冻水饺 500g",
        "category": "frozen",
        "unit_price": money("19.90"),
        "weight_g": 500,
        "volume_ml": 800,
        "temp_zone": "frozen",
    },
]


def create_raw_warehouse(path: Path) -> None:
    """A warehouse with the contract's raw schema and the base dataset."""
    con = duckdb.connect(str(path))
    try:
        for statement in raw_schema_ddl():
            con.execute(statement)
        insert_rows(con, "orders", BASE_ORDERS)
        # As ingestion keeps them: every loaded version (here, each order's one) is in the history too.
        con.execute("insert into raw.order_history select *, null::timestamp, null::varchar from raw.orders")
        insert_rows(con, "order_lines", BASE_LINES)
        insert_rows(con, "order_events", BASE_EVENTS)
        insert_rows(con, "quarantine", BASE_QUARANTINE)
        insert_rows(con, "ingest_batches", BASE_BATCHES)
        insert_rows(con, "ingest_files", BASE_FILES)
        insert_rows(con, "stores", BASE_STORES)
        insert_rows(con, "products", BASE_PRODUCTS)
    finally:
        con.close()


@dataclass
class BuiltWarehouse:
    """A warehouse file after a successful `dbt build`, with that build's result."""

    path: Path
    build: DbtResult
