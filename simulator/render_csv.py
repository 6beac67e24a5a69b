"""CSV channels (pos, groupbuy): one row per line item; a record (ticket / member order) is the run of
consecutive rows sharing its id. Headers are exactly those of docs/landing-formats.md."""

from __future__ import annotations

from .clock import naive_local
from .faults import Fault
from .orders import Order

POS_HEADER: tuple[str, ...] = (
    "小票号",
    "门店编码",
    "收银机号",
    "收银员",
    "交易时间",
    "会员手机",
    "商品编码",
    "商品名称",
    "数量",
    "单价",
    "原价",
    "折扣金额",
    "行实收",
    "支付方式",
    "状态",
)
GROUPBUY_HEADER: tuple[str, ...] = (
    "订单号",
    "团号",
    "团长",
    "自提点",
    "门店编码",
    "成员昵称",
    "成员手机",
    "收货地址",
    "商品编码",
    "商品名称",
    "数量",
    "团购价",
    "原价",
    "小计",
    "下单时间",
    "支付时间",
    "提货方式",
    "订单状态",
)
HEADERS: dict[str, tuple[str, ...]] = {"pos": POS_HEADER, "groupbuy": GROUPBUY_HEADER}


def _field(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_line(fields: list[str] | tuple[str, ...]) -> str:
    joined = ",".join(fields)
    # Fast path: our values almost never need quoting, and a plain join is 5x cheaper than per-field checks.
    if joined.count(",") == len(fields) - 1 and '"' not in joined and "\n" not in joined and "\r" not in joined:
        return joined
    return ",".join(_field(f) for f in fields)


def _money(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _finish(rows: list[list[str]], fault: Fault | None, name_col: int) -> list[str]:
    if fault is not None and fault.code == "malformed_row":
        row = rows[0]  # malformed records are single-row by construction
        if fault.variant == "extra_column":
            # What an unquoted comma in a product name does to a hand-exported sheet.
            base, _, size = row[name_col].partition(" ")
            row[name_col : name_col + 1] = [base, size or "散装"]
        else:
            del row[-1]
    return [csv_line(row) for row in rows]


def pos(o: Order, fault: Fault | None) -> list[str]:
    f = fault
    store = "" if f is not None and f.variant == "store" else o.store.store_id
    phone = f.value if f is not None and f.code == "bad_phone" else o.phone
    when = naive_local(o.created)
    rows: list[list[str]] = []
    for i, ln in enumerate(o.lines):
        bad_line = f is not None and f.line == i
        rows.append(
            [
                o.order_id,
                store,
                o.register,
                o.cashier,
                when,
                phone,
                f.value if bad_line and f.code == "unknown_sku" else ln.sku_id,
                ln.product.name,
                f.value if bad_line and f.code == "bad_quantity" else str(ln.qty),
                _money(ln.unit_fen),
                _money(ln.orig_fen),
                _money(ln.item_disc_fen),
                _money(ln.unit_fen * ln.qty),
                o.payment,
                o.status,
            ]
        )
    return _finish(rows, fault, POS_HEADER.index("商品名称"))


def groupbuy(o: Order, fault: Fault | None) -> list[str]:
    f = fault
    leader = o.leader
    assert leader is not None
    delivery = o.fulfilment == "delivery"
    store = "" if f is not None and f.variant == "store" else o.store.store_id
    phone = f.value if f is not None and f.code == "bad_phone" else o.phone
    address = o.address.text if delivery and not (f is not None and f.variant == "address") else ""
    team = f"T{o.order_id[2:10]}{leader.team_suffix}"
    created, paid = naive_local(o.created), naive_local(o.paid_at)
    rows: list[list[str]] = []
    for i, ln in enumerate(o.lines):
        bad_line = f is not None and f.line == i
        rows.append(
            [
                o.order_id,
                team,
                leader.name,
                leader.pickup_point,
                store,
                o.customer.nickname,
                phone,
                address,
                f.value if bad_line and f.code == "unknown_sku" else ln.sku_id,
                ln.product.name,
                f.value if bad_line and f.code == "bad_quantity" else str(ln.qty),
                _money(ln.unit_fen),
                _money(ln.orig_fen),
                _money(ln.unit_fen * ln.qty),
                created,
                paid,
                "送货上门" if delivery else "自提",
                o.status,
            ]
        )
    return _finish(rows, fault, GROUPBUY_HEADER.index("商品名称"))
