{{ config(
    materialized='incremental' if merges_by_address() else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address, as the merge chain it counts (macros/incremental.sql): a merge group never leaves
-- its address.
-- One row per merge group: its orders, the parcels it became and what its orders would need packed alone,
-- counted on the group's day and store (its first order's). fct_merge_savings_daily sums these per day and
-- store; kept per group so that a micro-batch recounts the groups at the addresses it touched, not every
-- group in history (1-2 s per micro-batch at 600k orders).

with merge_groups as (
    select
        merge_group_id,
        arg_min(address_key, group_seq) as address_key,
        arg_min(business_date, group_seq) as business_date,
        arg_min(store_id, group_seq) as store_id,
        count(*) as orders
    from {{ ref('int_merging__merge_groups') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('address_key', 'addresses', rebuilt_by='int_merging__merge_groups') }}
    {% endif %}
    group by merge_group_id
),

items as (
    select merge_group_id, travel_group, parcel_no, order_key, order_alone_parcels, oversize_unit,
        parcels_in_travel_group
    from {{ ref('int_parcels__assignments') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('address_key', 'addresses', rebuilt_by='int_parcels__assignments') }}
    {% endif %}
),

alone as (
    select merge_group_id, sum(order_alone_parcels) as parcels_alone
    from (select distinct merge_group_id, order_key, travel_group, order_alone_parcels from items) as per_order
    group by merge_group_id
),

-- The parcels as fct_parcels makes them from the same items: one per (merge group, travel group, parcel_no).
parcels as (
    select
        merge_group_id,
        count(*) as parcels,
        count(distinct travel_group) as travel_groups,
        count(*) filter (where oversize_unit) as oversize_parcels,
        max(parcels_in_travel_group) > 1 as split_by_limits
    from (
        select
            merge_group_id,
            travel_group,
            parcel_no,
            bool_or(oversize_unit) as oversize_unit,
            max(parcels_in_travel_group) as parcels_in_travel_group
        from items
        group by merge_group_id, travel_group, parcel_no
    ) as per_parcel
    group by merge_group_id
)

select
    g.merge_group_id,
    g.address_key,
    g.business_date,
    g.store_id,
    g.orders,
    p.parcels,
    p.travel_groups,
    p.oversize_parcels,
    p.split_by_limits,
    a.parcels_alone,
    {{ this_rebuild_seq() }} as rebuilt_seq  -- which invocation wrote the row (macros/rebuilt_seq.sql)
from merge_groups as g
left join parcels as p on p.merge_group_id = g.merge_group_id
left join alone as a on a.merge_group_id = g.merge_group_id
