-- What merging and splitting did to the parcel count, per business day and store.
--
--   delivery_orders        deliverable delivery orders (int_merging__merge_groups: not cancelled, parsed address)
--   parcels_without_merge  one parcel per order: what the store would send without merging or splitting
--   merge_groups           parcels after merge, before split (one per merge group)
--   parcels_after_split    parcels actually sent (fct_parcels)
--   split_extra_parcels    parcels the split added: sum over merge groups of (parcels - 1)
--   parcels_saved          parcels_without_merge - parcels_after_split (negative if splits outweigh merges)
--   parcels_split_without_merge  parcels if every order were packed on its own under the same split rules
--                          (zones, limits): the honest "before merge" when most orders mix zones
--   parcels_saved_by_merge parcels_split_without_merge - parcels_after_split: what merging alone saved
--
-- Every order is counted on its merge group's business day and store (the group's first order's), so a
-- group that straddles local midnight is not split across two rows and the columns add up:
-- parcels_after_split = merge_groups - merge_groups_without_lines + split_extra_parcels.
-- A merge group whose orders have no lines makes no parcel (a data guard; ingestion writes lines for
-- every order).

with merge_groups as (
    select
        merge_group_id,
        arg_min(business_date, group_seq) as business_date,
        arg_min(store_id, group_seq) as store_id,
        count(*) as orders,
        count(*) > 1 as is_merged
    from {{ ref('int_merging__merge_groups') }}
    group by merge_group_id
),

alone as (
    select merge_group_id, sum(order_alone_parcels) as parcels_alone
    from (
        select distinct merge_group_id, order_key, travel_group, order_alone_parcels
        from {{ ref('int_parcels__assignments') }}
    ) as per_order
    group by merge_group_id
),

parcels as (
    select
        merge_group_id,
        count(*) as parcels,
        count(distinct travel_group) as travel_groups,
        count(*) filter (where oversize_unit) as oversize_parcels,
        max(parcels_in_travel_group) > 1 as split_by_limits
    from {{ ref('fct_parcels') }}
    group by merge_group_id
)

select
    g.business_date,
    g.store_id,
    cast(sum(g.orders) as bigint) as delivery_orders,
    cast(sum(g.orders) as bigint) as parcels_without_merge,
    cast(sum(g.orders) filter (where g.is_merged) as bigint) as merged_orders,
    count(*) as merge_groups,
    count(*) filter (where g.is_merged) as merge_groups_of_two_or_more,
    count(*) filter (where p.merge_group_id is null) as merge_groups_without_lines,
    cast(coalesce(sum(p.parcels), 0) as bigint) as parcels_after_split,
    count(*) filter (where p.parcels > 1) as split_merge_groups,
    count(*) filter (where p.travel_groups > 1) as split_by_zone_merge_groups,
    count(*) filter (where p.split_by_limits) as split_by_limits_merge_groups,
    cast(coalesce(sum(greatest(p.parcels - 1, 0)), 0) as bigint) as split_extra_parcels,
    cast(coalesce(sum(p.oversize_parcels), 0) as bigint) as oversize_parcels,
    cast(sum(g.orders) - coalesce(sum(p.parcels), 0) as bigint) as parcels_saved,
    round(100.0 * (sum(g.orders) - coalesce(sum(p.parcels), 0)) / sum(g.orders), 2) as parcels_saved_pct,
    cast(coalesce(sum(a.parcels_alone), 0) as bigint) as parcels_split_without_merge,
    cast(coalesce(sum(a.parcels_alone), 0) - coalesce(sum(p.parcels), 0) as bigint) as parcels_saved_by_merge
from merge_groups as g
left join parcels as p on p.merge_group_id = g.merge_group_id
left join alone as a on a.merge_group_id = g.merge_group_id
group by g.business_date, g.store_id
