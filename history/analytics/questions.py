"""The analytics questions: one function per question, its docstring the business definition it answers.

Each function returns the question's SQL for one engine (a Dialect), grouped by one dimension and filtered to
a range of business days. Shared definitions, used by every question:

- An order belongs to the local business day of its creation (`fct_orders.business_date`, Asia/Shanghai) and
  to the local hour of `fct_orders.created_at_local`: the marts' one definition of local time.
- Cancelled: the order's current status is `cancelled` (`fct_orders.is_cancelled`, derived from the event
  history), whenever it happened. Kept orders are the rest.
- The dimension `channel` is the order's channel, `store` its fulfilling store (`store_id`), `hour` the local
  hour of day it was placed (0-23).
- The customer (the cross-channel identity): `channel_user_id` is per channel, so it cannot say that a Meituan
  and an app order came from the same person. The merge already decides that (int_merging__customer_identities:
  a full mobile number, a masked number matched to a known full one at the same door, a surname at the door…),
  and carries the result to `fct_parcels.customer_id`. So an order's customer is, in this order: the merge's
  customer (delivery orders that were not cancelled and whose address parsed: those in a parcel); else its full
  mobile number, in the merge's own form `m:<phone>` (so it meets the same customer's merged orders); else the
  channel's user id, per channel (`u:<channel>:<channel_user_id>`). Orders with none of these (and those the
  merge left ambiguous, `order:<key>`) have no identity: they count as orders, never as customers or repeats.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from history.analytics.dialects import Dialect
from history.sequence import NAME as ORDER_SEQUENCE

# --by value -> (column name in the answer, SQL over fct_orders as `o`)
DIMENSIONS: dict[str, tuple[str, Callable[[Dialect], str]]] = {
    "channel": ("channel", lambda d: "o.channel"),
    "store": ("store_id", lambda d: "o.store_id"),
    "hour": ("hour_local", lambda d: d.local_hour("o.created_at_local")),
}
EXCEPTION_TYPES = (
    "bad_address",
    "payment_missing",
    "late_risk",
    "out_of_stock",
    "price_mismatch",
    "amounts_inconsistent",
)


@dataclass(frozen=True)
class Scope:
    """What a question is asked for: one dimension and an inclusive range of business days (None: open)."""

    by: str = "channel"
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self) -> None:
        if self.by not in DIMENSIONS:
            raise ValueError(f"--by {self.by!r}: choose one of {', '.join(DIMENSIONS)}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"--from {self.date_from} is after --to {self.date_to}")


@dataclass(frozen=True)
class Sql:
    """The placeholders a question's text uses, filled for one dialect and scope."""

    d: Dialect
    dim: str  # the dimension's SQL over fct_orders `o`
    dim_name: str
    where: str  # the business-day filter on `o`
    parcels_where: str  # the same range on fct_parcels, a day wider (a merge group keeps its first order's day)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def t(self, name: str, alias: str) -> str:
        return self.d.table(name, alias, self.parcels_where)


def _day(value: dt.date) -> str:
    # Dates are date objects (parsed by the caller), so the literal cannot carry anything else.
    return f"cast('{value.isoformat()}' as date)"


def _range(column: str, date_from: dt.date | None, date_to: dt.date | None) -> str:
    parts = []
    if date_from:
        parts.append(f"{column} >= {_day(date_from)}")
    if date_to:
        parts.append(f"{column} <= {_day(date_to)}")
    return " and ".join(parts) or "1 = 1"


def _created_range(date_from: dt.date | None, date_to: dt.date | None) -> str:
    """A looser filter on the UTC creation time (a local day lies within a day of its UTC date), beside the exact
    one on business_date: the tables are partitioned and sorted by created_at, not business_date, so only this
    one lets ClickHouse skip partitions and granules. The literal is read in the server's time zone, which
    the day of slack also covers."""
    parts = []
    if date_from:
        parts.append(f"o.created_at >= cast('{date_from - dt.timedelta(days=1)} 00:00:00' as timestamp)")
    if date_to:
        parts.append(f"o.created_at < cast('{date_to + dt.timedelta(days=2)} 00:00:00' as timestamp)")
    return " and ".join(parts)


def placeholders(d: Dialect, scope: Scope) -> Sql:
    dim_name, dim = DIMENSIONS[scope.by]
    one_day = dt.timedelta(days=1)
    exact = _range("o.business_date", scope.date_from, scope.date_to)
    loose = _created_range(scope.date_from, scope.date_to)
    return Sql(
        d=d,
        dim=dim(d),
        dim_name=dim_name,
        where=f"{loose} and {exact}" if loose else exact,
        parcels_where=_range(
            "business_date",
            scope.date_from - one_day if scope.date_from else None,
            scope.date_to + one_day if scope.date_to else None,
        ),
        date_from=scope.date_from,
        date_to=scope.date_to,
    )


def _identified_orders(s: Sql) -> str:
    """The CTE `ident_orders`: every order in scope with its dimension value, channel, merge group, group size
    and customer (NULL when it has none), read from `order_customers` (history/identity.py), which holds them
    resolved: the sink stores it in ClickHouse, DuckDB reads its definition over the marts (only the parcels
    of the range's days and the day around, so a day's question does not split every parcel's order keys)."""
    return f"""ident_orders as (
    select
        {s.dim} as dim,
        o.channel as channel,
        o.created_at as created_at,
        o.order_key as order_key,
        o.merge_group_id as merge_group_id,
        o.group_size as group_size,
        o.customer_id as customer_id
    from {s.t("order_customers", "o")}
    where {s.where}
)"""


def _pct(part: str, whole: str) -> str:
    # Unrounded: the engines round ties differently (ClickHouse to even), so answers are rounded once, in Python.
    return f"100.0 * ({part}) / nullif({whole}, 0)"


def volume(s: Sql) -> str:
    """Order volume: orders placed (cancelled included: demand), their share of all orders in the range, the
    kept (not cancelled) orders and their revenue (sum of paid_amount of kept orders, yuan)."""
    return f"""
select
    {s.dim} as {s.dim_name},
    count(*) as orders,
    100.0 * count(*) / sum(count(*)) over () as pct_of_orders,
    count(*) filter (where not o.is_cancelled) as kept_orders,
    cast(coalesce(sum(o.paid_amount) filter (where not o.is_cancelled), 0) as double) as revenue
from {s.t("fct_orders", "o")}
where {s.where}
group by {s.dim_name}
order by {s.dim_name}"""


def basket(s: Sql) -> str:
    """Average basket of kept (not cancelled) orders: mean paid amount (what the customer paid, yuan), mean goods
    amount (before discounts and fees), mean items (units) and mean lines per order."""
    # Exact sums divided once, not avg(): a float avg sums in an engine-specific order, and the last bit it
    # changes can flip the rounding of a tie (118.075) between the engines.
    return f"""
select
    {s.dim} as {s.dim_name},
    count(*) as kept_orders,
    cast(sum(o.paid_amount) as double) / count(*) as avg_paid_amount,
    cast(sum(o.goods_amount) as double) / count(*) as avg_goods_amount,
    cast(sum(o.items_quantity) as double) / count(*) as avg_items,
    cast(sum(o.line_count) as double) / count(*) as avg_lines
from {s.t("fct_orders", "o")}
where {s.where} and not o.is_cancelled
group by {s.dim_name}
order by {s.dim_name}"""


def cancellations(s: Sql) -> str:
    """Cancellation rate: orders whose current status is cancelled, of all orders placed; and how many of those
    were cancelled after dispatch (a rider had already left: the costly kind)."""
    return f"""
select
    {s.dim} as {s.dim_name},
    count(*) as orders,
    count(*) filter (where o.is_cancelled) as cancelled_orders,
    {_pct("count(*) filter (where o.is_cancelled)", "count(*)")} as cancel_rate_pct,
    count(*) filter (where o.is_cancelled and o.dispatched_at is not null) as cancelled_after_dispatch
from {s.t("fct_orders", "o")}
where {s.where}
group by {s.dim_name}
order by {s.dim_name}"""


def exceptions(s: Sql) -> str:
    """Exception rate: orders with at least one exception in fct_exceptions (any of its six types, open or
    already resolved: it happened), of all orders placed; then orders per exception type, and orders with an
    exception still open. Dispatch's own exceptions (unassigned parcels) are not order exceptions and are not
    counted."""
    per_type = ",\n        ".join(f"count(*) filter (where exception_type = '{t}') as n_{t}" for t in EXCEPTION_TYPES)
    type_cols = ",\n        ".join(f"count(*) filter (where n_{t} > 0) as {t}" for t in EXCEPTION_TYPES)
    type_out = ",\n    ".join(f"coalesce(x.{t}, 0) as {t}" for t in EXCEPTION_TYPES)
    # per_order's counts are named n_*, not like the aggregates below: ClickHouse resolves a name to a SELECT
    # alias first, and `count(*) filter (where late_risk > 0) as late_risk` would read itself.
    # Orders are counted in one pass and the few with an exception joined in another: a join of every order to
    # the exceptions probed 10M orders (2-4 s on ClickHouse at 10M); the IN filter (on a key hash in ClickHouse:
    # 1.3-1.6 s instead of 1.8-2.1 s) narrows the probe to the orders that have one.
    return f"""
with per_order as (
    select
        order_key,
        {per_type},
        count(*) filter (where resolved_at is null) as n_open
    from {s.t("fct_exceptions", "x")}
    group by order_key
),

totals as (
    select {s.dim} as dim, count(*) as orders
    from {s.t("fct_orders", "o")}
    where {s.where}
    group by dim
),

excepted as (
    select
        dim,
        count(*) as orders_with_exceptions,
        {type_cols},
        count(*) filter (where n_open > 0) as orders_with_open_exceptions
    from (
        select {s.dim} as dim, e.*
        from {s.t("fct_orders", "o")}
        inner join per_order as e on e.order_key = o.order_key
        where {s.where}
            and {s.d.key_hash("o.order_key")} in (select {s.d.key_hash("order_key")} from per_order)
    ) as joined
    group by dim
)

select
    t.dim as {s.dim_name},
    t.orders as orders,
    coalesce(x.orders_with_exceptions, 0) as orders_with_exceptions,
    {_pct("coalesce(x.orders_with_exceptions, 0)", "t.orders")} as exception_rate_pct,
    {type_out},
    coalesce(x.orders_with_open_exceptions, 0) as orders_with_open_exceptions
from totals as t
left join excepted as x on x.dim = t.dim
order by {s.dim_name}"""


def _on_or_after_start(s: Sql, day_column: str) -> str:
    """`day_column` (a business day of an earlier order, or NULL) is within the range: not before its start."""
    if s.date_from is None:
        return f"{day_column} is not null"
    return f"{day_column} >= {_day(s.date_from)}"


def _on_or_before_end(s: Sql, day_column: str) -> str:
    """`day_column` (a business day of a later order, or NULL) is within the range: not after its end."""
    if s.date_to is None:
        return f"{day_column} is not null"
    return f"{day_column} <= {_day(s.date_to)}"


def _sequenced_orders(s: Sql, columns: dict[str, str]) -> str:
    """The CTE `ident_orders`: every order in scope with its dimension value, its customer (NULL when it has
    none: docs/analytics.md), the customer as the engine compares it in a distinct count (ClickHouse: a 64-bit
    hash of it) and `columns` (name -> the dialect's expression), days of its customer's other orders
    (history/sequence.py)."""
    days = "".join(f",\n        {value} as {name}" for name, value in columns.items())
    return f"""ident_orders as (
    select
        {s.dim} as dim,
        o.customer_id as customer_id,
        {s.d.key_hash("o.customer_id")} as customer{days}
    from {s.t(ORDER_SEQUENCE, "o")}
    where {s.where}
)"""


# Repeat and cross-channel read days of each order's customer's other orders (history/sequence.py), stored in
# ClickHouse: every count is then one pass over the range's orders. Grouping them by customer and comparing a
# customer's rows instead took 4-10 s at 10M orders with millions of customers. Customers are counted distinct
# by a 64-bit hash on ClickHouse (its exact distinct count of text is 2-4 times slower): two of a few million
# customers would have to share a hash for a count to be one short, about one chance in ten million.


def repeat(s: Sql) -> str:
    """Repeat rate: an order is a repeat when its customer (the cross-channel identity: docs/analytics.md) placed an
    earlier order in the date range, on any channel (ties in time broken by order_key). repeat_order_pct is of
    the identified orders; a repeat customer of a group placed a repeat order in it; customers and repeat
    customers are counted per group, so a customer of two channels counts once in each."""
    repeated = f"customer_id is not null and {_on_or_after_start(s, 'prev_order_date')}"
    return f"""
with {_sequenced_orders(s, {"prev_order_date": s.d.prev_order_date})},

counted as (
    select
        dim,
        count(*) as orders,
        count(customer_id) as identified_orders,
        count(*) filter (where {repeated}) as repeat_orders,
        count(distinct customer) as customers,
        count(distinct case when {repeated} then customer end) as repeat_customers
    from ident_orders
    group by dim
)

select
    dim as {s.dim_name},
    orders,
    identified_orders,
    repeat_orders,
    {_pct("repeat_orders", "identified_orders")} as repeat_order_pct,
    customers,
    repeat_customers,
    {_pct("repeat_customers", "customers")} as repeat_customer_pct
from counted
order by dim"""


def cross_channel(s: Sql) -> str:
    """Customers on more than one channel: of the customers (the cross-channel identity: docs/analytics.md) who ordered
    in a group, how many ordered on two or more channels within the date range, and how many orders those
    multi-channel customers placed in the group."""
    # A customer ordered on two channels in the range exactly when each of their orders there has an order on
    # another channel there, before or after it: a flag of the order, counted per group in one pass.
    multi = (
        f"customer_id is not null and ({_on_or_after_start(s, 'prev_other_channel_date')} "
        f"or {_on_or_before_end(s, 'next_other_channel_date')})"
    )
    channel_days = {
        "prev_other_channel_date": s.d.prev_other_channel_date,
        "next_other_channel_date": s.d.next_other_channel_date,
    }
    return f"""
with {_sequenced_orders(s, channel_days)},

counted as (
    select
        dim,
        count(*) as orders,
        count(distinct customer) as customers,
        count(distinct case when {multi} then customer end) as multi_channel_customers,
        count(*) filter (where {multi}) as orders_of_multi_channel_customers
    from ident_orders
    group by dim
)

select
    dim as {s.dim_name},
    orders,
    customers,
    multi_channel_customers,
    {_pct("multi_channel_customers", "customers")} as multi_channel_customer_pct,
    orders_of_multi_channel_customers
from counted
order by dim"""


# Merges first collapse the orders to one row per group and merge group with a hash aggregation, then compare a
# merge group's rows across groups with a window over those few rows: a window over every order would sort all
# of them (10-18 s at 10M orders, against about a second).


def merges(s: Sql) -> str:
    """How often merges happen: of the delivery orders the merge considered (not cancelled, address parsed: the
    orders in a parcel, fct_parcels), how many were merged with another order (their merge group has two or
    more orders, fct_parcels.group_size), in how many merge groups, and how many of those merges joined orders
    from more than one channel (counted from the group's orders placed within the date range)."""
    # Only merged orders (a group of two or more) keep their group in the first aggregation; the rest, most
    # orders, collapse to one row per group of the answer.
    return f"""
with {_identified_orders(s)},

per_group as (
    select
        dim,
        case when group_size > 1 then merge_group_id end as merged_group,
        count(*) as n,
        count(merge_group_id) as parcelled,
        min(channel) as first_channel,
        max(channel) as last_channel
    from ident_orders
    group by dim, merged_group
),

flagged as (
    select
        dim,
        merged_group,
        n,
        parcelled,
        merged_group is not null
            and min(first_channel) over (partition by merged_group) <> max(last_channel) over (partition by merged_group)
            as cross_channel
    from per_group
),

counted as (
    select
        dim,
        sum(n) as orders,
        sum(parcelled) as parcelled_orders,
        coalesce(sum(n) filter (where merged_group is not null), 0) as merged_orders,
        count(merged_group) as merge_groups,
        coalesce(sum(n) filter (where cross_channel), 0) as cross_channel_merged_orders,
        count(*) filter (where cross_channel) as cross_channel_merge_groups
    from flagged
    group by dim
)

select
    dim as {s.dim_name},
    orders,
    parcelled_orders,
    merged_orders,
    {_pct("merged_orders", "parcelled_orders")} as merged_pct,
    merge_groups,
    cross_channel_merged_orders,
    cross_channel_merge_groups
from counted
order by dim"""


QUESTIONS: dict[str, Callable[[Sql], str]] = {
    "volume": volume,
    "basket": basket,
    "repeat": repeat,
    "cancellations": cancellations,
    "exceptions": exceptions,
    "cross-channel": cross_channel,
    "merges": merges,
}


def question_sql(name: str, d: Dialect, scope: Scope) -> str:
    if name not in QUESTIONS:
        raise ValueError(f"no analytics question {name!r}: choose one of {', '.join(QUESTIONS)}")
    return QUESTIONS[name](placeholders(d, scope)).strip() + d.suffix


def describe(name: str) -> str:
    """The question's definition (its docstring), as one paragraph."""
    return " ".join((QUESTIONS[name].__doc__ or "").split())
