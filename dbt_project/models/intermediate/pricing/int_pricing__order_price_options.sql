{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('order_key', changed_orders()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- A table incremental by order (macros/incremental.sql), not a view: the options of an order depend on its own record
-- and lines and on the reference data (products, promotions; a change there needs the full rebuild), and a view
-- recomputed every option of every order of history for each micro-batch.
-- Every correct way an order could have been priced: one row per order and combination of the optional
-- promotions it was eligible for, with the amounts that pricing gives.
--
-- From the catalogue (stg_raw__products.unit_price) and the promotion calendar in effect when the order
-- was placed (stg_raw__promotions, channel = the order's channel or 'all'):
--   goods            = Σ catalogue price × quantity
--   item discount    = a channel with a price factor (var channel_price_factor, e.g. group-buy 0.88) sells
--                      at factor × catalogue rounded to var channel_price_rounding_yuan, and gets no item
--                      discounts; other channels get their discount_item promotions per unit
--   full reductions  = always applied when goods − item discount reaches the threshold
--   coupons          = optional (the customer may not use one) when the threshold is reached
--   delivery-fee cut = optional on delivery orders with a fee, at most the fee
--   paid             = goods − item discount − reductions + the order's delivery and packaging fees
--   platform share   = Σ reduction × platform_share (the platform's share of OUR promotions; it may fund
--                      more, its own promotions, see fct_order_price_checks)
-- The delivery and packaging fees are taken as reported: they are channel fees, not promotions. Which
-- option the order actually used is decided in fct_order_price_checks (the closest one).
-- An order with k optional promotions has 2^k options (k is 0-2 with today's calendar).

{%- set factors = var('channel_price_factor') or {} %}
{%- set rounding = var('channel_price_rounding_yuan') %}

with orders as (
    select
        order_key,
        channel,
        created_at,
        fulfilment_type,
        delivery_fee,
        packaging_fee
    from {{ ref('stg_raw__orders') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('order_key', 'orders') }}
    {% endif %}
),

promotions as (
    select * from {{ ref('stg_raw__promotions') }}
),

channel_factors as (
    {%- for channel, factor in factors.items() %}
    select '{{ channel }}' as channel, cast({{ factor }} as double) as price_factor
    {{- " union all" if not loop.last }}
    {%- else %}
    select cast(null as varchar) as channel, cast(null as double) as price_factor where false
    {%- endfor %}
),

lines as (
    select
        lines.order_key,
        lines.line_no,
        lines.sku_id,
        lines.quantity,
        orders.channel,
        orders.created_at,
        products.unit_price as catalogue_price,
        channel_factors.price_factor,
        cast(
            round(products.unit_price * channel_factors.price_factor / {{ rounding }}) * {{ rounding }}
            as decimal(18, 2)
        ) as channel_unit_price
    from {{ ref('stg_raw__order_lines') }} as lines
    inner join orders on orders.order_key = lines.order_key
    left join {{ ref('stg_raw__products') }} as products on products.sku_id = lines.sku_id
    left join channel_factors on channel_factors.channel = orders.channel
    {% if is_incremental() %}
        where {{ in_batch_order_lines('lines') }}
    {% endif %}
),

item_promotions as (
    select
        lines.order_key,
        lines.line_no,
        sum(least(promotions.reduce_amount, lines.catalogue_price) * lines.quantity) as item_discount,
        sum(round(least(promotions.reduce_amount, lines.catalogue_price) * lines.quantity
                  * promotions.platform_share, 2)) as item_platform,
        string_agg(promotions.promo_id, ',' order by promotions.promo_id) as promo_ids
    from lines
    inner join promotions
        on promotions.promo_kind = 'discount_item'
        and promotions.sku_id = lines.sku_id
        and promotions.channel in (lines.channel, 'all')
        and lines.created_at >= promotions.starts_at
        and lines.created_at < promotions.ends_at
    where lines.price_factor is null
    group by lines.order_key, lines.line_no
),

baskets as (
    select
        lines.order_key,
        sum(lines.catalogue_price * lines.quantity) as expected_goods,
        sum(case
                when lines.price_factor is not null
                    then (lines.catalogue_price - lines.channel_unit_price) * lines.quantity
                else coalesce(item_promotions.item_discount, 0)
            end) as expected_item_discount,
        sum(coalesce(item_promotions.item_platform, 0)) as expected_item_platform,
        string_agg(distinct item_promotions.promo_ids, ',' order by item_promotions.promo_ids) as item_promotions,
        bool_or(lines.catalogue_price is null) as has_unknown_price
    from lines
    left join item_promotions
        on item_promotions.order_key = lines.order_key
        and item_promotions.line_no = lines.line_no
    group by lines.order_key
),

eligible as (
    select
        orders.order_key,
        promotions.promo_id,
        promotions.promo_kind,
        promotions.promo_kind in ('coupon', 'delivery_fee') as is_optional,
        case
            when promotions.promo_kind = 'delivery_fee' then least(promotions.reduce_amount, orders.delivery_fee)
            else promotions.reduce_amount
        end as reduce_amount,
        promotions.platform_share
    from orders
    inner join baskets on baskets.order_key = orders.order_key
    inner join promotions
        on promotions.channel in (orders.channel, 'all')
        and orders.created_at >= promotions.starts_at
        and orders.created_at < promotions.ends_at
    where (promotions.promo_kind = 'delivery_fee'
            and orders.fulfilment_type = 'delivery' and orders.delivery_fee > 0)
        or (promotions.promo_kind in ('full_reduction', 'coupon')
            and baskets.expected_goods - baskets.expected_item_discount >= promotions.threshold_amount)
),

eligible_numbered as (
    select
        *,
        cast(round(reduce_amount * platform_share, 2) as decimal(18, 2)) as platform_amount,
        case when is_optional
            then row_number() over (partition by order_key, is_optional order by promo_id) - 1
        end as optional_bit
    from eligible
),

per_order as (
    select
        order_key,
        count(*) filter (where is_optional) as optional_count,
        coalesce(sum(reduce_amount) filter (where not is_optional), 0) as mandatory_reduction,
        coalesce(sum(platform_amount) filter (where not is_optional), 0) as mandatory_platform,
        string_agg(promo_id, ',' order by promo_id) filter (where not is_optional) as mandatory_promotions
    from eligible_numbered
    group by order_key
),

option_masks as (
    select
        baskets.order_key,
        unnest(range(0, cast(1 as bigint) << coalesce(per_order.optional_count, 0))) as option_mask
    from baskets
    left join per_order on per_order.order_key = baskets.order_key
),

options as (
    select
        option_masks.order_key,
        option_masks.option_mask,
        coalesce(sum(eligible_numbered.reduce_amount), 0) as optional_reduction,
        coalesce(sum(eligible_numbered.platform_amount), 0) as optional_platform,
        string_agg(eligible_numbered.promo_id, ',' order by eligible_numbered.promo_id) as optional_promotions
    from option_masks
    left join eligible_numbered
        on eligible_numbered.order_key = option_masks.order_key
        and eligible_numbered.is_optional
        and (option_masks.option_mask >> eligible_numbered.optional_bit) & 1 = 1
    group by option_masks.order_key, option_masks.option_mask
)

select
    options.order_key,
    options.option_mask,
    cast(baskets.expected_goods as decimal(18, 2)) as expected_goods_amount,
    cast(baskets.expected_item_discount as decimal(18, 2)) as expected_item_discount,
    cast(coalesce(per_order.mandatory_reduction, 0) + options.optional_reduction as decimal(18, 2))
        as expected_promotion_discount,
    cast(baskets.expected_item_platform + coalesce(per_order.mandatory_platform, 0) + options.optional_platform
         as decimal(18, 2)) as expected_platform_discount,
    cast(
        baskets.expected_goods - baskets.expected_item_discount
        - coalesce(per_order.mandatory_reduction, 0) - options.optional_reduction
        + orders.delivery_fee + orders.packaging_fee
        as decimal(18, 2)
    ) as expected_paid_amount,
    -- Item discounts first, then the order promotions this option applies.
    nullif(concat_ws(',', baskets.item_promotions, per_order.mandatory_promotions, options.optional_promotions), '')
        as applied_promotions,
    baskets.has_unknown_price,
    {{ this_rebuild_seq() }} as rebuilt_seq  -- which invocation wrote the row (macros/rebuilt_seq.sql)
from options
inner join baskets on baskets.order_key = options.order_key
inner join orders on orders.order_key = options.order_key
left join per_order on per_order.order_key = options.order_key
