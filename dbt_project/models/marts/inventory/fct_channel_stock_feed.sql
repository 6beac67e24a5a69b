-- What each channel may sell per store and SKU: the table a publisher pushes back to the channels after
-- every micro-batch (the channels converge on it: eventual consistency through the queue).
--
-- sellable_units = max(available − safety stock, 0), safety stock from var safety_stock_by_category (by
-- product category) or var safety_stock_units. Each channel in var stock_feed_channels follows its rule
-- in var channel_allocation (or the rule under `default`):
--   fixed_share  floor(sellable × share), ring-fenced for the channel (group-buying pre-orders);
--   shared       what the fixed shares leave, the same pool offered to every shared channel.
-- Only store/SKUs with a position (a WMS count) are published.

{%- set channels = var('stock_feed_channels') %}
{%- set allocation = var('channel_allocation') %}
{%- set by_category = var('safety_stock_by_category') or {} %}
{%- set ns = namespace(fixed_total=0.0) %}
{%- for channel in channels %}
    {%- if channel not in allocation and 'default' not in allocation %}
        {{ exceptions.raise_compiler_error("channel_allocation has no rule for " ~ channel ~ " and no default") }}
    {%- endif %}
    {%- set rule = allocation.get(channel, allocation.get('default')) %}
    {%- if rule['mode'] not in ['shared', 'fixed_share'] %}
        {{ exceptions.raise_compiler_error("channel_allocation for " ~ channel ~ ": mode must be shared or fixed_share, got " ~ rule['mode']) }}
    {%- endif %}
    {%- if rule['mode'] == 'fixed_share' %}
        {%- if rule.get('share') is none or rule['share'] <= 0 or rule['share'] > 1 %}
            {{ exceptions.raise_compiler_error("channel_allocation for " ~ channel ~ ": fixed_share needs a share in (0, 1]") }}
        {%- endif %}
        {%- set ns.fixed_total = ns.fixed_total + rule['share'] %}
    {%- endif %}
{%- endfor %}
{%- if ns.fixed_total > 1 %}
    {{ exceptions.raise_compiler_error("channel_allocation: fixed shares add up to " ~ ns.fixed_total ~ ", more than 1") }}
{%- endif %}

with rules as (
    {%- for channel in channels %}
    {%- set rule = allocation.get(channel, allocation.get('default')) %}
    select
        '{{ channel }}' as channel,
        '{{ rule["mode"] }}' as allocation_mode,
        cast({{ rule.get('share', 'null') if rule['mode'] == 'fixed_share' else 'null' }} as double) as allocation_share
    {{- " union all" if not loop.last }}
    {%- endfor %}
),

positions as (
    select
        store_id,
        sku_id,
        category,
        available_units,
        as_of,
        case category
            {%- for category, units in by_category.items() %}
            when '{{ category | replace("'", "''") }}' then {{ units | int }}
            {%- endfor %}
            else {{ var('safety_stock_units') | int }}
        end as safety_stock_units
    from {{ ref('fct_stock_positions') }}
),

sellable as (
    select *, greatest(available_units - safety_stock_units, 0) as sellable_units
    from positions
),

allocated as (
    select
        sellable.*,
        rules.channel,
        rules.allocation_mode,
        rules.allocation_share,
        case when rules.allocation_mode = 'fixed_share'
            then cast(floor(sellable.sellable_units * rules.allocation_share) as bigint)
        end as fixed_units
    from sellable
    cross join rules
)

select
    {{ hash_key(['channel', 'store_id', 'sku_id']) }} as feed_id,
    as_of,
    channel,
    store_id,
    sku_id,
    available_units,
    safety_stock_units,
    sellable_units,
    allocation_mode,
    allocation_share,
    cast(case allocation_mode
        when 'fixed_share' then fixed_units
        else sellable_units - coalesce(sum(fixed_units) over (partition by store_id, sku_id), 0)
    end as bigint) as channel_sellable_units,
    case allocation_mode
        when 'fixed_share' then fixed_units
        else sellable_units - coalesce(sum(fixed_units) over (partition by store_id, sku_id), 0)
    end = 0 as is_sold_out
from allocated
