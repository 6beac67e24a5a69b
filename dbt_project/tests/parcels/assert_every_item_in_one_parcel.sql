-- Every line of every order in a merge group travels, exactly once, in a parcel of its own merge group.
-- Returns each order line (of an order in int_merging__merge_groups, quantity > 0) whose packed items
--   * are missing (the line is in no parcel) or appear in more than one parcel per chunk,
--   * do not add up to the line's quantity, weight or volume (a chunk lost or double-counted),
--   * sit in a parcel of another merge group than the order's.
-- In a micro-batch, the addresses it rebuilt (macros/batch_scope.sql): a merge group and its parcels never
-- leave their address, so both sides of the comparison are whole there.
{%- set models = ['int_merging__merge_groups', 'fct_parcel_items'] %}

with lines as (
    select
        g.merge_group_id,
        l.order_key,
        l.line_no,
        l.quantity,
        coalesce(l.weight_g, 0) as weight_g,
        coalesce(l.volume_ml, 0) as volume_ml
    from {{ ref('stg_raw__order_lines') }} as l
    inner join {{ ref('int_merging__merge_groups') }} as g on g.order_key = l.order_key
    where l.quantity > 0 and {{ batch_scope('address', models, alias='g') }}
),

packed as (
    select
        order_key,
        line_no,
        count(*) as items,
        count(distinct chunk_no) as chunks,
        max(chunk_count) as chunk_count,
        sum(quantity) as quantity,
        sum(weight_g) as weight_g,
        sum(volume_ml) as volume_ml,
        count(distinct merge_group_id) as merge_groups,
        min(merge_group_id) as merge_group_id
    from {{ ref('fct_parcel_items') }}
    where {{ batch_scope('address', models) }}
    group by order_key, line_no
)

select
    coalesce(lines.order_key, packed.order_key) as order_key,
    coalesce(lines.line_no, packed.line_no) as line_no,
    lines.quantity as line_quantity,
    packed.quantity as packed_quantity,
    lines.weight_g as line_weight_g,
    packed.weight_g as packed_weight_g,
    packed.items,
    packed.chunks,
    lines.merge_group_id as order_merge_group_id,
    packed.merge_group_id as parcel_merge_group_id
from lines
full outer join packed on packed.order_key = lines.order_key and packed.line_no = lines.line_no
where lines.order_key is null
    or packed.order_key is null
    or packed.items <> packed.chunks
    or packed.chunks <> packed.chunk_count
    or packed.quantity <> lines.quantity
    or packed.weight_g <> lines.weight_g
    or packed.volume_ml <> lines.volume_ml
    or packed.merge_groups <> 1
    or packed.merge_group_id <> lines.merge_group_id

-- Shown in Dagster as an asset check of fct_parcel_items (a test with several parents needs to name one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_parcel_items'}}}) }}
