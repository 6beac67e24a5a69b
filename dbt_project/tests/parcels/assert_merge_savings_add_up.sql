-- fct_merge_savings_daily agrees with the parcels and the merge groups it summarises. Returns each
-- (business_date, store_id) where
--   * parcels_after_split differs from the number of rows of fct_parcels for that day and store,
--   * delivery_orders differs from the orders of int_merging__merge_groups counted on their group's day and store,
--   * the columns do not add up: parcels_saved = parcels_without_merge - parcels_after_split and
--     parcels_after_split = merge_groups - merge_groups_without_lines + split_extra_parcels.
-- In a micro-batch (macros/batch_scope.sql), the merge groups at the addresses it rebuilt, one by one instead:
-- the view is a sum of int_parcels__merge_savings' rows per day and store, so its days add up when every
-- group's row agrees with the group's orders and parcels, and only rebuilt groups can have changed. Each such
-- group's row must count the group's orders and parcels on the group's day and store (its first order's),
-- and its parcels must all lie on that day and store. The per-day form above reads and groups every merge
-- group and parcel in history (3.4x the seconds at 2M orders as at 666k: bench/results/scale.md); it runs
-- in the checks job and after the nightly build.
-- depends_on: {{ ref('int_parcels__merge_savings') }}
{%- set models = ['int_merging__merge_groups', 'int_parcels__merge_savings', 'fct_parcels'] %}
{%- set scope = batch_scope('address', models) | trim %}

-- Each merge group's orders, on the group's day and store (its first order's).
with groups as (
    select
        merge_group_id,
        arg_min(business_date, group_seq) as business_date,
        arg_min(store_id, group_seq) as store_id,
        count(*) as orders
    from {{ ref('int_merging__merge_groups') }}
    where {{ scope }}
    group by merge_group_id
),
{%- if scope != 'true' %}

parcels as (
    select
        merge_group_id,
        count(*) as parcels,
        count(distinct business_date) as days,
        min(business_date) as business_date,
        count(distinct store_id) as stores,
        min(store_id) as store_id
    from {{ ref('fct_parcels') }}
    where {{ scope }}
    group by merge_group_id
),

savings as (
    select merge_group_id, business_date, store_id, orders, parcels
    from {{ ref('int_parcels__merge_savings') }}
    where {{ scope }}
)

select
    coalesce(s.merge_group_id, g.merge_group_id, p.merge_group_id) as merge_group_id,
    s.business_date,
    g.business_date as group_business_date,
    p.business_date as parcels_business_date,
    s.orders,
    g.orders as group_orders,
    s.parcels,
    p.parcels as counted_parcels
from savings as s
full outer join groups as g on g.merge_group_id = s.merge_group_id
full outer join parcels as p on p.merge_group_id = coalesce(s.merge_group_id, g.merge_group_id)
where s.merge_group_id is null
    or g.merge_group_id is null
    or s.orders <> g.orders
    or s.business_date <> g.business_date
    or s.store_id is distinct from g.store_id
    or coalesce(s.parcels, 0) <> coalesce(p.parcels, 0)
    or p.days > 1
    or p.stores > 1
    or p.business_date <> s.business_date
    or p.store_id is distinct from s.store_id

{%- else %}

parcels as (
    select business_date, store_id, count(*) as parcels
    from {{ ref('fct_parcels') }}
    group by business_date, store_id
),

orders as (
    select business_date, store_id, sum(orders) as orders, count(*) as merge_groups
    from groups
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
{%- endif %}

-- Shown in Dagster as an asset check of fct_merge_savings_daily (a test with several parents needs to name one).
{{ config(meta={'dagster': {'ref': {'name': 'fct_merge_savings_daily'}}}) }}
