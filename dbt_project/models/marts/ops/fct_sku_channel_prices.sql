{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('business_date', touched_business_days()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Is a SKU listed at the same price on every channel? One row per business day, SKU and channel that
-- sold it, with the list price the channel showed (original_price on the order lines: the shelf price
-- before any discount; the most common one that day, ties to the lower price), the catalogue price and
-- the spread across channels.
--
-- A SKU is inconsistent when its channel list prices differ by more than
-- var cross_channel_price_tolerance_pct percent of the lowest; the channels whose price is off the
-- catalogue by more than that are the outliers to fix. Discounts are not compared here (group-buy sells
-- below list by design); whether an order paid the right amount is fct_order_price_checks' job.
--
-- Incremental by local business day (macros/incremental.sql, touched_business_days): a day's rows depend only
-- on the orders placed that day, so a micro-batch rebuilds the days of the orders it changed, whole.

{%- set tolerance_pct = var('cross_channel_price_tolerance_pct') %}

with observed as (
    select
        orders.business_date,
        lines.sku_id,
        orders.channel,
        lines.original_price,
        count(*) as lines_at_price
    from {{ ref('stg_raw__order_lines') }} as lines
    inner join {{ ref('stg_raw__orders') }} as orders on orders.order_key = lines.order_key
    {% if is_incremental() %}
        where orders.business_date in (select business_date from {{ touched_table() }})
            and {{ created_within_touched_days('orders.created_at') }}
    {% endif %}
    group by all
),

per_channel as (
    select
        business_date,
        sku_id,
        channel,
        first(original_price order by lines_at_price desc, original_price) as list_price,
        count(*) as price_variants,
        sum(lines_at_price) as order_lines
    from observed
    group by business_date, sku_id, channel
),

with_spread as (
    select
        per_channel.*,
        products.unit_price as catalogue_price,
        min(list_price) over sku_day as sku_min_price,
        max(list_price) over sku_day as sku_max_price,
        count(*) over sku_day as channels_observed
    from per_channel
    left join {{ ref('stg_raw__products') }} as products on products.sku_id = per_channel.sku_id
    window sku_day as (partition by per_channel.business_date, per_channel.sku_id)
)

select
    business_date,
    sku_id,
    channel,
    list_price,
    price_variants,
    order_lines,
    catalogue_price,
    cast(round(100.0 * (list_price - catalogue_price) / nullif(catalogue_price, 0), 2) as double)
        as deviation_from_catalogue_pct,
    sku_min_price,
    sku_max_price,
    channels_observed,
    cast(round(100.0 * (sku_max_price - sku_min_price) / nullif(sku_min_price, 0), 2) as double) as sku_spread_pct,
    coalesce(channels_observed >= 2
        and 100.0 * (sku_max_price - sku_min_price) > {{ tolerance_pct }} * sku_min_price, false) as is_inconsistent_sku,
    coalesce(channels_observed >= 2
        and 100.0 * (sku_max_price - sku_min_price) > {{ tolerance_pct }} * sku_min_price
        and 100.0 * abs(list_price - catalogue_price) > {{ tolerance_pct }} * catalogue_price, false) as is_price_outlier
from with_spread
