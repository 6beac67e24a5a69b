{{ config(
    materialized='incremental' if merges_by_address() else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address, as int_merging__merge_groups is (macros/incremental.sql).
-- One row per packed item: which parcel each order line (or quantity chunk of a line too big for one
-- parcel) travels in. The pick list of a parcel; its rows add up to the parcel's weight and volume in
-- fct_parcels, and the chunks of a line add up to the line.

select
    merge_group_id || '/' || travel_group || '/' || parcel_no as parcel_id,
    merge_group_id,
    travel_group,
    parcel_no,
    order_key,
    line_no,
    chunk_no,
    chunk_count,
    sku_id,
    quantity,
    line_quantity,
    weight_g,
    volume_ml,
    temp_zone,
    is_line_split,
    oversize_unit,
    address_key
from {{ ref('int_parcels__assignments') }}
{% if is_incremental() %}
    where {{ in_batch_keys('address_key', 'addresses', rebuilt_by='int_parcels__assignments') }}
{% endif %}
