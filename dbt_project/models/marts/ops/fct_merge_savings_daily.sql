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

-- Summed from int_parcels__merge_savings (one row per merge group, rebuilt per touched address), not from the
-- merge groups and parcels of all history.

select
    business_date,
    store_id,
    cast(sum(orders) as bigint) as delivery_orders,
    cast(sum(orders) as bigint) as parcels_without_merge,
    cast(sum(orders) filter (where orders > 1) as bigint) as merged_orders,
    count(*) as merge_groups,
    count(*) filter (where orders > 1) as merge_groups_of_two_or_more,
    count(*) filter (where parcels is null) as merge_groups_without_lines,
    cast(coalesce(sum(parcels), 0) as bigint) as parcels_after_split,
    count(*) filter (where parcels > 1) as split_merge_groups,
    count(*) filter (where travel_groups > 1) as split_by_zone_merge_groups,
    count(*) filter (where split_by_limits) as split_by_limits_merge_groups,
    cast(coalesce(sum(greatest(parcels - 1, 0)), 0) as bigint) as split_extra_parcels,
    cast(coalesce(sum(oversize_parcels), 0) as bigint) as oversize_parcels,
    cast(sum(orders) - coalesce(sum(parcels), 0) as bigint) as parcels_saved,
    round(100.0 * (sum(orders) - coalesce(sum(parcels), 0)) / sum(orders), 2) as parcels_saved_pct,
    cast(coalesce(sum(parcels_alone), 0) as bigint) as parcels_split_without_merge,
    cast(coalesce(sum(parcels_alone), 0) - coalesce(sum(parcels), 0) as bigint) as parcels_saved_by_merge
from {{ ref('int_parcels__merge_savings') }}
group by business_date, store_id
