-- One row per parcel after merge and split: what leaves the store, and what dispatch routes.
--
-- A merge group (int_merge_groups: orders of one customer to one address, close in time) is packed per
-- travel group (var temp_zone_travel_groups) into as few parcels as the limits allow
-- (int_parcel_assignments). parcel_id is readable and deterministic: merge_group_id/travel_group/parcel_no.
--
-- is_split: the merge group became more than one parcel. split_reason says why, for the whole merge
-- group (the same text on each of its parcels), parts joined with '; ':
--   'zones: chilled,frozen not with ambient'  -- zones of different travel groups (coldest group first)
--   'over weight limit 15000 g' / 'over volume limit 40000 ml'  -- a travel group's items exceed a limit
--   'unit over parcel limit'  -- a single unit larger than a parcel: it travels alone, oversize_unit
-- NULL when the merge group is one parcel.
--
-- store_id, customer_id, address_key, business_date, merge_reason are the merge group's (its first order's;
-- store, customer and address are the same for every order of a group under the default merge keys).

{%- set max_weight = var('parcel_max_weight_g') | int %}
{%- set max_volume = var('parcel_max_volume_ml') | int %}

with groups as (
    select
        merge_group_id,
        arg_min(store_id, group_seq) as store_id,
        arg_min(customer_id, group_seq) as customer_id,
        arg_min(address_key, group_seq) as address_key,
        arg_min(business_date, group_seq) as business_date,
        min(group_first_at) as group_first_at,
        max(group_size) as group_size,
        max(merge_reason) as merge_reason
    from {{ ref('int_merge_groups') }}
    group by merge_group_id
),

placed as (
    select
        a.merge_group_id,
        a.travel_group,
        a.parcel_no,
        a.parcels_in_travel_group,
        a.lower_bound_parcels,
        a.is_proven_minimal,
        a.packing_method,
        i.order_key,
        i.quantity,
        i.weight_g,
        i.volume_ml,
        i.temp_zone,
        i.oversize_unit
    from {{ ref('int_parcel_assignments') }} as a
    join {{ ref('int_parcel_items') }} as i
        on i.order_key = a.order_key and i.line_no = a.line_no and i.chunk_no = a.chunk_no
),

parcels as (
    select
        merge_group_id,
        travel_group,
        parcel_no,
        string_agg(distinct temp_zone, ',' order by temp_zone) as temp_zones,
        cast(sum(weight_g) as bigint) as weight_g,
        cast(sum(volume_ml) as bigint) as volume_ml,
        count(*) as item_count,
        cast(sum(quantity) as bigint) as units,
        count(distinct order_key) as order_count,
        string_agg(distinct order_key, ',' order by order_key) as order_keys,
        bool_or(oversize_unit) as oversize_unit,
        max(parcels_in_travel_group) as parcels_in_travel_group,
        max(lower_bound_parcels) as lower_bound_parcels,
        bool_and(is_proven_minimal) as is_proven_minimal,
        max(packing_method) as packing_method
    from placed
    group by merge_group_id, travel_group, parcel_no
),

travel_groups as (
    select
        merge_group_id,
        travel_group,
        string_agg(distinct temp_zone, ',' order by temp_zone) as zones,
        sum(weight_g) > {{ max_weight }} as over_weight,
        sum(volume_ml) > {{ max_volume }} as over_volume,
        bool_or(oversize_unit) as has_oversize_unit
    from placed
    group by merge_group_id, travel_group
),

merge_group_split as (
    select
        merge_group_id,
        count(*) as travel_group_count,
        nullif(concat_ws('; ',
            case when count(*) > 1
                then 'zones: ' || string_agg(zones, ' not with ' order by travel_group desc) end,
            case when bool_or(over_weight) then 'over weight limit {{ max_weight }} g' end,
            case when bool_or(over_volume) then 'over volume limit {{ max_volume }} ml' end,
            case when bool_or(has_oversize_unit) then 'unit over parcel limit' end
        ), '') as split_reason
    from travel_groups
    group by merge_group_id
),

merge_group_parcels as (
    select merge_group_id, count(*) as parcels_in_merge_group
    from parcels
    group by merge_group_id
)

select
    parcels.merge_group_id || '/' || parcels.travel_group || '/' || parcels.parcel_no as parcel_id,
    parcels.merge_group_id,
    parcels.travel_group,
    parcels.parcel_no,
    groups.store_id,
    groups.customer_id,
    groups.address_key,
    groups.business_date,
    groups.group_first_at,
    groups.group_size,
    parcels.temp_zones,
    parcels.weight_g,
    parcels.volume_ml,
    parcels.item_count,
    parcels.units,
    parcels.order_count,
    parcels.order_keys,
    merge_group_parcels.parcels_in_merge_group,
    parcels.parcels_in_travel_group,
    merge_group_parcels.parcels_in_merge_group > 1 as is_split,
    case when merge_group_parcels.parcels_in_merge_group > 1 then merge_group_split.split_reason end
        as split_reason,
    groups.merge_reason,
    parcels.oversize_unit,
    parcels.lower_bound_parcels,
    parcels.is_proven_minimal,
    parcels.packing_method
from parcels
join groups on groups.merge_group_id = parcels.merge_group_id
join merge_group_parcels on merge_group_parcels.merge_group_id = parcels.merge_group_id
join merge_group_split on merge_group_split.merge_group_id = parcels.merge_group_id
