-- Split parcels never break a limit. Returns every parcel that
--   * weighs more than var parcel_max_weight_g or is larger than var parcel_max_volume_ml, unless it is an
--     oversize_unit parcel (a single unit over a limit: one item of one unit, which cannot be made to fit);
--   * is flagged oversize_unit but holds more than that one unit;
--   * mixes travel groups: an item whose temp_zone maps (var temp_zone_travel_groups, recomputed here
--     from the rules, not taken from the models) to a group other than the parcel's, or two groups in one;
--   * disagrees with its own items on weight or volume.
{%- set max_weight = var('parcel_max_weight_g') | int %}
{%- set max_volume = var('parcel_max_volume_ml') | int %}
{%- set travel_groups = var('temp_zone_travel_groups') %}
{#- In a micro-batch, the addresses it rebuilt (macros/batch_scope.sql): a parcel and its items share one. #}
{%- set models = ['fct_parcels', 'fct_parcel_items'] %}

with items as (
    select
        parcel_id,
        weight_g,
        volume_ml,
        quantity,
        case temp_zone
        {%- for zone, travel_group in travel_groups.items() %}
            when '{{ zone | replace("'", "''") }}' then '{{ travel_group | replace("'", "''") }}'
        {%- endfor %}
            else 'only:' || coalesce(temp_zone, 'unknown')
        end as rule_travel_group
    from {{ ref('fct_parcel_items') }}
    where {{ batch_scope('address', models) }}
),

by_parcel as (
    select
        parcel_id,
        sum(weight_g) as item_weight_g,
        sum(volume_ml) as item_volume_ml,
        sum(quantity) as item_units,
        count(*) as items,
        count(distinct rule_travel_group) as travel_groups,
        min(rule_travel_group) as rule_travel_group
    from items
    group by parcel_id
)

select
    p.parcel_id,
    p.weight_g,
    p.volume_ml,
    p.oversize_unit,
    p.travel_group,
    b.rule_travel_group,
    b.travel_groups,
    b.items,
    b.item_units,
    case
        when b.parcel_id is null then 'parcel without items'
        when not p.oversize_unit and p.weight_g > {{ max_weight }} then 'over weight limit'
        when not p.oversize_unit and p.volume_ml > {{ max_volume }} then 'over volume limit'
        when p.oversize_unit and (b.items <> 1 or b.item_units <> 1) then 'oversize parcel holds more than one unit'
        when b.travel_groups > 1 then 'mixes travel groups'
        when b.rule_travel_group <> p.travel_group then 'travel group differs from the rules'
        when b.item_weight_g <> p.weight_g or b.item_volume_ml <> p.volume_ml then 'items do not add up'
    end as problem
from {{ ref('fct_parcels') }} as p
left join by_parcel as b on b.parcel_id = p.parcel_id
where {{ batch_scope('address', models, alias='p') }} and (b.parcel_id is null
    or (not p.oversize_unit and (p.weight_g > {{ max_weight }} or p.volume_ml > {{ max_volume }}))
    or (p.oversize_unit and (b.items <> 1 or b.item_units <> 1))
    or b.travel_groups > 1
    or b.rule_travel_group <> p.travel_group
    or b.item_weight_g <> p.weight_g
    or b.item_volume_ml <> p.volume_ml)

-- Shown in Dagster as an asset check of fct_parcels (a test with several parents needs to name one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_parcels'}}}) }}
