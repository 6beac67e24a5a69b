"""Every order with its cross-channel customer and merge group, as one relation: `order_customers`.

The definition of an order's customer is docs/analytics.md's ("Customer"): the merge's customer for the orders
in a parcel (`fct_parcels.customer_id`), else the full mobile number in the merge's own form (`m:<phone>`), else
the channel's user id per channel (`u:<channel>:<channel_user_id>`); none (NULL) for an order with none of
these or one the merge left ambiguous (`order:<key>`). Resolving it means joining every order with the order
keys split out of `fct_parcels`; at 10M orders that join dominated the questions that need it, so the sink
stores the result in ClickHouse (history/schema.py, table `order_customers`) and the questions read it there.
DuckDB reads the same SQL as a view over its marts: one text, so both engines resolve identity alike.

One row per `fct_orders` row: the order's columns the questions group and filter by, its merge group and the
group's size (NULL outside a parcel), its customer. Nothing here depends on a date range, so the questions'
windows (repeat within the range, channels within the range) stay in the questions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

NAME = "order_customers"


def order_customers_sql(schema: str = "marts", parcels_where: str = "true") -> str:
    """The relation as DuckDB SQL over the warehouse's marts in `schema`. `parcels_where` narrows the parcels
    read (a condition on fct_parcels' own columns) when the reader wants only some orders: an order's parcel is
    of its business day or the day before (a merge group keeps its first order's day).

    A split merge group has several parcels listing the same order, each with the same group values, so any one
    of them will do."""
    return f"""SELECT
    o.order_key,
    o.channel,
    o.store_id,
    o.created_at,
    o.created_at_local,
    o.business_date,
    m.merge_group_id,
    m.group_size,
    CASE
        WHEN m.order_key IS NOT NULL AND m.customer_id LIKE 'order:%' THEN NULL
        WHEN m.order_key IS NOT NULL AND m.customer_id IS NOT NULL THEN m.customer_id
        WHEN o.phone_kind = 'mobile' AND o.phone <> '' THEN 'm:' || o.phone
        WHEN o.channel_user_id <> '' THEN 'u:' || o.channel || ':' || o.channel_user_id
    END AS customer_id
FROM {schema}.fct_orders AS o
LEFT JOIN (
    SELECT
        order_key,
        any_value(merge_group_id) AS merge_group_id,
        any_value(customer_id) AS customer_id,
        any_value(group_size) AS group_size
    FROM (
        SELECT unnest(string_split(order_keys, ',')) AS order_key, merge_group_id, customer_id, group_size
        FROM {schema}.fct_parcels
        WHERE {parcels_where}
    ) AS exploded
    GROUP BY order_key
) AS m ON m.order_key = o.order_key"""


def order_customers_on_days(days: Sequence[dt.date]) -> str:
    """The relation for the orders created on `days` (UTC dates of `created_at`, as the sink partitions it),
    reading only the parcels those orders can be in: an order created on UTC day D is of local business day D or
    D+1, and its parcel of that day or the day before. Rows of other orders come out too (unfiltered); their
    merge columns may then be missing, so the caller keeps only the orders of `days`."""
    near = sorted({day + dt.timedelta(days=k) for day in days for k in (-1, 0, 1)})
    listed = ", ".join(f"DATE '{day.isoformat()}'" for day in near) or "NULL"
    return order_customers_sql("marts", parcels_where=f"business_date IN ({listed})")
