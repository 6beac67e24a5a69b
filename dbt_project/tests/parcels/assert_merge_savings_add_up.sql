-- fct_merge_savings_daily agrees with the parcels and the merge groups it summarises. Returns each
-- (business_date, store_id) where
--   * parcels_after_split differs from the number of rows of fct_parcels for that day and store,
--   * delivery_orders differs from the orders of int_merging__merge_groups counted on their group's day and store,
--   * the columns do not add up: parcels_saved = parcels_without_merge - parcels_after_split and
--     parcels_after_split = merge_groups - merge_groups_without_lines + split_extra_parcels.
with parcels as (
    select business_date, store_id, count(*) as parcels
    from {{ ref('fct_parcels') }}
    group by business_date, store_id
),

group_days as (
    select
        merge_group_id,
        arg_min(business_date, group_seq) as business_date,
        arg_min(store_id, group_seq) as store_id,
        count(*) as orders
    from {{ ref('int_merging__merge_groups') }}
    group by merge_group_id
),

orders as (
    select business_date, store_id, sum(orders) as orders, count(*) as merge_groups
    from group_days
    group by business_date, store_id
)

select
    coalesce(s.business_date, o.business_date) as business_date,
    coalesce(s.store_id, o.store_id) as store_id,
    s.delivery_orders,
    o.orders,
    s.merge_groups,
    o.merge_groups as counted_merge_groups,
    s.parcels_after_split,
    p.parcels
from {{ ref('fct_merge_savings_daily') }} as s
full outer join orders as o
    on o.business_date = s.business_date and o.store_id is not distinct from s.store_id
left join parcels as p
    on p.business_date = coalesce(s.business_date, o.business_date)
    and p.store_id is not distinct from coalesce(s.store_id, o.store_id)
where s.business_date is null
    or o.business_date is null
    or s.delivery_orders <> o.orders
    or s.merge_groups <> o.merge_groups
    or s.parcels_after_split <> coalesce(p.parcels, 0)
    or s.parcels_saved <> s.parcels_without_merge - s.parcels_after_split
    or s.parcels_after_split <> s.merge_groups - s.merge_groups_without_lines + s.split_extra_parcels

-- Shown in Dagster as an asset check of fct_merge_savings_daily (a test with several parents needs to name one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_merge_savings_daily'}}}) }}
