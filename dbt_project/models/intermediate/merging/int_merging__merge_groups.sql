-- A table, not a view: identity matching and the merge walk feed several models and tests, and
-- recomputing them per reader costs seconds each at a million orders (bench/parcels_merge_split.py).
{{ config(
    materialized='incremental' if merges_by_address() else 'table',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address (macros/incremental.sql) while the merge key includes the address and the window is
-- fixed: then an order's group depends only on the orders at its address, which a micro-batch rebuilds whole.
-- A merge key without the address, or the dynamic window (learned from each customer's earlier days), makes
-- it a table rebuilt every run.

-- Which delivery orders travel together: the rule engine of the merge (rules in config/rules.yml).
--
-- Candidates are delivery orders that are not cancelled and have a parsed address. Within one merge key
-- (var merge_required_keys: by default the customer, the address and the fulfilling store), orders are
-- walked in creation order: an order joins the open group when it was created within the window of the
-- group's FIRST order (inclusive) and before the group was sealed (the first time any member reached a
-- status in var merge_sealing_statuses, e.g. dispatched); otherwise it starts a new group and says why.
-- The window is the group's first order's window: var merge_window_minutes, or, when the dynamic window
-- is on, the window int_merging__propensity chose for that customer. The address key says "same door" from
-- the text; the coordinates can still veto it: an order whose point is more than var merge_max_distance_m
-- from the group's first order's point starts a new group (too_far). Without a point on either side the
-- key alone decides (ingestion/addresses.py same_door is the same rule, measured on the labelled pairs).
--
-- The "window from the group's first order" rule cannot be written with window functions (whether an
-- order opens a group depends on where the previous group opened), hence the recursive walk. It iterates
-- once per position in the longest key, which is a handful of orders per customer and address.

{%- set allowed_keys = ['customer_id', 'address_key', 'store_id'] %}
{%- set keys = var('merge_required_keys') %}
{%- for key in keys %}
    {%- if key not in allowed_keys %}
        {{ exceptions.raise_compiler_error("merge_required_keys may only hold " ~ allowed_keys ~ ", got " ~ key) }}
    {%- endif %}
{%- endfor %}

with recursive orders as (
    select
        o.order_key,
        o.store_id,
        o.address_key,
        o.business_date,
        o.created_at,
        o.lat,
        o.lng,
        i.customer_id,
        i.evidence as identity_evidence,
        i.confidence as identity_confidence
    from {{ ref('stg_raw__orders') }} as o
    inner join {{ ref('int_merging__customer_identities') }} as i using (order_key)
    left join {{ ref('int_orders__current_status') }} as s using (order_key)
    where o.fulfilment_type = 'delivery'
        and coalesce(s.current_status, o.status) <> 'cancelled'
        {% if is_incremental() %}
            and {{ in_batch_keys('o.address_key', 'addresses') }}
        {% endif %}
),

-- Only the candidates' events: grouping every order's events costs seconds per micro-batch at millions of
-- orders (bench/results/scale.md), and only these orders are walked.
sealed as (
    select order_key, min(event_time) as sealed_at
    from {{ ref('stg_raw__order_events') }}
    where status in {{ sql_string_list(var('merge_sealing_statuses')) }}
        and order_key in (select order_key from orders)
    group by order_key
),

windows as (
    {%- if var('merge_dynamic_window')['enabled'] %}
    select customer_id, business_date, window_minutes from {{ ref('int_merging__propensity') }}
    {%- else %}
    select null::varchar as customer_id, null::date as business_date, null::integer as window_minutes where false
    {%- endif %}
),

candidates as (
    select
        o.*,
        concat_ws('|', {% for key in keys %}o.{{ key }}{{ ", " if not loop.last }}{% endfor %}) as merge_key,
        s.sealed_at,
        coalesce(w.window_minutes, {{ var('merge_window_minutes') }}) as window_minutes,
        row_number() over (
            partition by {% for key in keys %}o.{{ key }}{{ ", " if not loop.last }}{% endfor %}
            order by o.created_at, o.order_key
        ) as seq
    from orders as o
    left join sealed as s using (order_key)
    left join windows as w using (customer_id, business_date)
),

walk as (
    select
        merge_key,
        seq,
        order_key,
        created_at,
        order_key as group_first_key,
        created_at as group_first_at,
        lat as group_lat,
        lng as group_lng,
        window_minutes as group_window_minutes,
        sealed_at as group_sealed_at,
        1 as group_no,
        null::varchar as break_reason
    from candidates
    where seq = 1

    union all

    select
        c.merge_key,
        c.seq,
        c.order_key,
        c.created_at,
        case when j.joins then w.group_first_key else c.order_key end,
        case when j.joins then w.group_first_at else c.created_at end,
        case when j.joins then w.group_lat else c.lat end,
        case when j.joins then w.group_lng else c.lng end,
        case when j.joins then w.group_window_minutes else c.window_minutes end,
        case when j.joins then least(w.group_sealed_at, c.sealed_at) else c.sealed_at end,
        case when j.joins then w.group_no else w.group_no + 1 end,
        case
            when j.joins then null
            when not j.within_window then 'outside_window'
            when not j.near then 'too_far'
            else 'group_sealed'
        end
    from walk as w
    inner join candidates as c on c.merge_key = w.merge_key and c.seq = w.seq + 1
    cross join lateral (
        select
            c.created_at <= w.group_first_at + to_minutes(w.group_window_minutes) as within_window,
            coalesce({{ distance_m('w.group_lat', 'w.group_lng', 'c.lat', 'c.lng') }} <= {{ var('merge_max_distance_m') }}, true)
                as near,
            c.created_at <= w.group_first_at + to_minutes(w.group_window_minutes)
                and coalesce({{ distance_m('w.group_lat', 'w.group_lng', 'c.lat', 'c.lng') }} <= {{ var('merge_max_distance_m') }}, true)
                and (w.group_sealed_at is null or c.created_at < w.group_sealed_at) as joins
    ) as j
),

grouped as (
    select
        c.order_key,
        {{ hash_key(['w.merge_key', 'w.group_first_key']) }} as merge_group_id,
        row_number() over (partition by w.merge_key, w.group_no order by c.seq) as group_seq,
        count(*) over (partition by w.merge_key, w.group_no) as group_size,
        c.store_id,
        c.customer_id,
        c.address_key,
        c.business_date,
        c.created_at,
        w.group_first_key,
        w.group_first_at,
        w.group_window_minutes as window_minutes,
        w.break_reason,
        c.identity_evidence,
        c.identity_confidence,
        datediff('second', w.group_first_at, c.created_at) as seconds_after_first
    from walk as w
    inner join candidates as c using (merge_key, seq)
)

select
    order_key,
    merge_group_id,
    group_seq,
    group_size,
    store_id,
    customer_id,
    address_key,
    business_date,
    created_at,
    group_first_key,
    group_first_at,
    window_minutes,
    break_reason,
    identity_evidence,
    identity_confidence,
    case
        when group_size = 1 then null
        else 'same customer (' || identity_evidence || '), same address, same store; placed '
            || round(seconds_after_first / 60.0, 1) || ' min after the group''s first order (window '
            || window_minutes || ' min)'
    end as merge_reason,
    {{ this_rebuild_seq() }} as rebuilt_seq  -- which invocation wrote the row (macros/rebuilt_seq.sql)
from grouped
