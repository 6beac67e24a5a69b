{{ config(
    materialized='incremental' if merges_by_address() else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address, as int_merging__merge_groups is (macros/incremental.sql).
-- The packable items of every merge group: what the parcel packer (int_parcels__assignments) places.
--
-- Each order line of each order in int_merging__merge_groups is one item, unless it cannot travel whole: a line
-- whose total weight or volume is over the parcel limit (vars parcel_max_weight_g, parcel_max_volume_ml)
-- is split by quantity into chunks of at most k units, k = the most units that fit one parcel in BOTH
-- dimensions (floor(limit / unit) for weight and for volume, the smaller). 4 x 5 kg with a 15 kg limit
-- gives chunks of 3 and 1 units. Lines that fit are never split: a picker keeps a line together.
--
-- A single UNIT heavier or larger than the limit cannot be made to fit any parcel: each such unit becomes
-- its own item flagged oversize_unit (and later its own parcel, flagged in fct_parcels) rather than
-- failing the run; the limits test exempts exactly those parcels.
--
-- weight_g / volume_ml on a line are line totals (contract); a chunk gets its share with integer
-- arithmetic (floor(total * units_to_end / qty) - floor(total * units_to_start / qty)), so the chunks
-- of a line add up to the line exactly and no chunk is over the limit.
--
-- travel_group maps temp_zone through var temp_zone_travel_groups (ambient -> ambient, chilled and
-- frozen -> cold): items of different travel groups never share a parcel. A zone missing from the map
-- travels alone ('only:<zone>'). Materialised as a table: the packer reads it twice.

{%- set max_weight = var('parcel_max_weight_g') | int %}
{%- set max_volume = var('parcel_max_volume_ml') | int %}
{%- set travel_groups = var('temp_zone_travel_groups') %}
{%- if travel_groups is not mapping or travel_groups | length == 0 %}
    {{ exceptions.raise_compiler_error(
        "var temp_zone_travel_groups must map each temp_zone to a travel group (config/rules.yml)") }}
{%- endif %}
{%- if max_weight <= 0 or max_volume <= 0 %}
    {{ exceptions.raise_compiler_error("parcel_max_weight_g and parcel_max_volume_ml must be positive") }}
{%- endif %}

-- The merge group's context (store, customer, address, business day from its first order, merge_reason
-- from its last) rides on every item, so the packer and the parcel marts read this table alone instead of
-- recomputing the merge (int_merging__merge_groups is a view).
with groups as (
    select
        order_key,
        merge_group_id,
        arg_min(store_id, group_seq) over by_group as store_id,
        arg_min(customer_id, group_seq) over by_group as customer_id,
        arg_min(address_key, group_seq) over by_group as address_key,
        arg_min(business_date, group_seq) over by_group as business_date,
        min(group_first_at) over by_group as group_first_at,
        max(group_size) over by_group as group_size,
        -- The last order to join says how far the group stretched its window.
        arg_max(merge_reason, group_seq) over by_group as merge_reason
    from {{ ref('int_merging__merge_groups') }}
    {% if is_incremental() %}
        where {{ in_batch_keys('address_key', 'addresses', rebuilt_by='int_merging__merge_groups') }}
    {% endif %}
    window by_group as (partition by merge_group_id)
),

lines as (
    select
        groups.merge_group_id,
        groups.store_id,
        groups.customer_id,
        groups.address_key,
        groups.business_date,
        groups.group_first_at,
        groups.group_size,
        groups.merge_reason,
        lines.order_key,
        lines.line_no,
        lines.sku_id,
        cast(lines.quantity as bigint) as line_quantity,
        -- A line without catalogue measures weighs nothing for packing (ingestion fills them from the
        -- catalogue, so this is a guard, not a rule).
        cast(coalesce(lines.weight_g, 0) as bigint) as line_weight_g,
        cast(coalesce(lines.volume_ml, 0) as bigint) as line_volume_ml,
        lines.temp_zone
    from {{ ref('stg_raw__order_lines') }} as lines
    inner join groups on groups.order_key = lines.order_key
    where lines.quantity > 0
),

sized as (
    select
        *,
        -- Most units of this line one parcel can hold, by weight and by volume (0 = one unit is over).
        case when line_weight_g = 0 then line_quantity
             else ({{ max_weight }} * line_quantity) // line_weight_g end as fit_by_weight,
        case when line_volume_ml = 0 then line_quantity
             else ({{ max_volume }} * line_quantity) // line_volume_ml end as fit_by_volume
    from lines
),

chunked as (
    select
        *,
        least(fit_by_weight, fit_by_volume) = 0 as oversize_unit,
        greatest(least(line_quantity, fit_by_weight, fit_by_volume), 1) as chunk_units
    from sized
),

chunks as (
    select
        chunked.*,
        series.chunk_no,
        (line_quantity + chunk_units - 1) // chunk_units as chunk_count,
        (series.chunk_no - 1) * chunk_units as units_before,
        least(series.chunk_no * chunk_units, line_quantity) as units_through
    from chunked,
        generate_series(1, (chunked.line_quantity + chunked.chunk_units - 1) // chunked.chunk_units)
            as series (chunk_no)
)

select
    merge_group_id,
    order_key,
    line_no,
    cast(chunk_no as integer) as chunk_no,
    cast(chunk_count as integer) as chunk_count,
    sku_id,
    cast(units_through - units_before as integer) as quantity,
    cast(line_quantity as integer) as line_quantity,
    cast((line_weight_g * units_through) // line_quantity
        - (line_weight_g * units_before) // line_quantity as bigint) as weight_g,
    cast((line_volume_ml * units_through) // line_quantity
        - (line_volume_ml * units_before) // line_quantity as bigint) as volume_ml,
    temp_zone,
    case temp_zone
    {%- for zone, travel_group in travel_groups.items() %}
        when '{{ zone | replace("'", "''") }}' then '{{ travel_group | replace("'", "''") }}'
    {%- endfor %}
        else 'only:' || coalesce(temp_zone, 'unknown')
    end as travel_group,
    chunk_count > 1 as is_line_split,
    oversize_unit,
    store_id,
    customer_id,
    address_key,
    business_date,
    group_first_at,
    group_size,
    merge_reason,
    {{ this_rebuild_seq() }} as rebuilt_seq  -- which invocation wrote the row (macros/rebuilt_seq.sql)
from chunks
