{{ config(
    materialized='incremental' if merges_by_address() else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address, as int_merging__merge_groups is (macros/incremental.sql).
-- One row per parcel after merge and split: what leaves the store, and what dispatch routes.
--
-- A merge group (int_merging__merge_groups: orders of one customer to one address, close in time) is packed per
-- travel group (var temp_zone_travel_groups) into as few parcels as the limits allow
-- (int_parcels__assignments). parcel_id is readable and deterministic: merge_group_id/travel_group/parcel_no.
--
-- is_split: the merge group became more than one parcel. split_reason says why, for the whole merge
-- group (the same text on each of its parcels), parts joined with '; ':
--   'zones: chilled,frozen not with ambient'  -- zones of different travel groups (coldest group first)
--   'over weight limit 15000 g' / 'over volume limit 40000 ml'  -- a travel group's items exceed a limit
--   'unit over parcel limit'  -- a single unit larger than a parcel: it travels alone, oversize_unit
-- NULL when the merge group is one parcel.
--
-- store_id, customer_id, address_key, business_date are the merge group's (its first order's; store,
-- customer and address are the same for every order of a group under the default merge keys);
-- merge_reason is the reason of the group's last order (how far it stretched the window). All of it rides
-- on int_parcels__assignments, so this model never recomputes the merge.

{%- set max_weight = var('parcel_max_weight_g') | int %}
{%- set max_volume = var('parcel_max_volume_ml') | int %}

with parcels as (
    select
        merge_group_id,
        travel_group,
        parcel_no,
        -- list_distinct + list_sort: the same sorted, distinct list as string_agg(distinct .. order by ..),
        -- at a fraction of the cost on millions of items.
        list_sort(list_distinct(list(temp_zone))) as zone_list,
        cast(sum(weight_g) as bigint) as weight_g,
        cast(sum(volume_ml) as bigint) as volume_ml,
        count(*) as item_count,
        cast(sum(quantity) as bigint) as units,
        list_sort(list_distinct(list(order_key))) as order_list,
        bool_or(oversize_unit) as oversize_unit,
        max(parcels_in_travel_group) as parcels_in_travel_group,
        max(lower_bound_parcels) as lower_bound_parcels,
        bool_and(is_proven_minimal) as is_proven_minimal,
        max(packing_method) as packing_method,
        any_value(store_id) as store_id,
        any_value(customer_id) as customer_id,
        any_value(address_key) as address_key,
        any_value(business_date) as business_date,
        any_value(group_first_at) as group_first_at,
        any_value(group_size) as group_size,
        any_value(merge_reason) as merge_reason
    from {{ ref('int_parcels__assignments') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('address_key', 'addresses', rebuilt_by='int_parcels__assignments') }}
    {% endif %}
    group by merge_group_id, travel_group, parcel_no
),

-- Per merge group and travel group, from the parcels (not the items again).
travel_groups as (
    select
        merge_group_id,
        travel_group,
        array_to_string(list_sort(list_distinct(flatten(list(zone_list)))), ',') as zones,
        sum(weight_g) > {{ max_weight }} as over_weight,
        sum(volume_ml) > {{ max_volume }} as over_volume,
        bool_or(oversize_unit) as has_oversize_unit,
        count(*) as parcels
    from parcels
    group by merge_group_id, travel_group
),

merge_groups as (
    select
        merge_group_id,
        sum(parcels) as parcels_in_merge_group,
        nullif(concat_ws('; ',
            case when count(*) > 1
                then 'zones: ' || string_agg(zones, ' not with ' order by travel_group desc) end,
            case when bool_or(over_weight) then 'over weight limit {{ max_weight }} g' end,
            case when bool_or(over_volume) then 'over volume limit {{ max_volume }} ml' end,
            case when bool_or(has_oversize_unit) then 'unit over parcel limit' end
        ), '') as split_reason
    from travel_groups
    group by merge_group_id
)

select
    parcels.merge_group_id || '/' || parcels.travel_group || '/' || parcels.parcel_no as parcel_id,
    parcels.merge_group_id,
    parcels.travel_group,
    parcels.parcel_no,
    parcels.store_id,
    parcels.customer_id,
    parcels.address_key,
    parcels.business_date,
    parcels.group_first_at,
    parcels.group_size,
    array_to_string(parcels.zone_list, ',') as temp_zones,
    parcels.weight_g,
    parcels.volume_ml,
    parcels.item_count,
    parcels.units,
    len(parcels.order_list) as order_count,
    array_to_string(parcels.order_list, ',') as order_keys,
    cast(merge_groups.parcels_in_merge_group as bigint) as parcels_in_merge_group,
    parcels.parcels_in_travel_group,
    merge_groups.parcels_in_merge_group > 1 as is_split,
    case when merge_groups.parcels_in_merge_group > 1 then merge_groups.split_reason end as split_reason,
    parcels.merge_reason,
    parcels.oversize_unit,
    parcels.lower_bound_parcels,
    parcels.is_proven_minimal,
    parcels.packing_method
from parcels
inner join merge_groups on merge_groups.merge_group_id = parcels.merge_group_id
