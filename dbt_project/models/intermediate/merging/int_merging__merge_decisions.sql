-- For every order that could have shared a parcel, whether it did and why (or why not).
--
-- "Could have": the same customer ordered to the same address more than once that business day, or the order
-- was merged (a group may span midnight). Each such
-- order gets one decision: merged (with the group's reason) or not merged, with the first reason that
-- applies: cancelled, not a delivery, identity ambiguous, a different fulfilling store, outside the window
-- of the group's first order, coordinates too far from the group's first order, or the group was already
-- dispatched.

with identities as (
    select
        o.order_key,
        o.business_date,
        o.created_at,
        o.store_id,
        o.fulfilment_type,
        coalesce(s.current_status, o.status) as current_status,
        i.customer_id,
        i.address_key,
        i.is_ambiguous,
        i.evidence_detail
    from {{ ref('stg_raw__orders') }} as o
    inner join {{ ref('int_merging__customer_identities') }} as i using (order_key)
    left join {{ ref('int_orders__current_status') }} as s using (order_key)
),

-- Ambiguous orders carry a customer of their own; for "could have merged" they count at their address.
siblings as (
    select
        *,
        count(*) over (partition by address_key, business_date, case when is_ambiguous then 'ambiguous' else customer_id end) as orders_that_day,
        count(*) over (partition by address_key, business_date) as orders_at_address
    from identities
),

-- A group keeps its first order's business day, so a pair merged across midnight (23:50 and 00:10) has one
-- order on each day: it is considered by its group, or it would have no decision at all.
considered as (
    select siblings.*
    from siblings
    left join {{ ref('int_merging__merge_groups') }} as grouped using (order_key)
    where siblings.orders_that_day > 1
        or (siblings.is_ambiguous and siblings.orders_at_address > 1)
        or grouped.group_size > 1
),

other_store_within_window as (
    select distinct c.order_key
    from considered as c
    inner join {{ ref('int_merging__merge_groups') }} as g
        on g.customer_id = c.customer_id
        and g.address_key = c.address_key
        and g.store_id <> c.store_id
        and abs(datediff('second', g.created_at, c.created_at)) <= {{ var('merge_window_minutes') }} * 60
)

select
    c.order_key,
    c.business_date,
    c.customer_id,
    c.address_key,
    c.store_id,
    g.merge_group_id,
    coalesce(g.group_size, 0) > 1 as is_merged,
    case
        when coalesce(g.group_size, 0) > 1 then 'merged'
        when c.current_status = 'cancelled' then 'cancelled'
        when c.fulfilment_type <> 'delivery' then c.fulfilment_type
        when c.is_ambiguous then 'ambiguous_identity'
        when o.order_key is not null and 'store_id' in {{ sql_string_list(var('merge_required_keys')) }} then 'different_store'
        when g.break_reason = 'group_sealed' then 'group_already_dispatched'
        when g.break_reason = 'outside_window' then 'outside_window'
        when g.break_reason = 'too_far' then 'coordinates_apart'
        else 'no_partner_in_window'
    end as decision,
    case
        when coalesce(g.group_size, 0) > 1 then g.merge_reason
        when c.current_status = 'cancelled' then 'cancelled orders are not delivered'
        when c.fulfilment_type <> 'delivery' then 'fulfilment is ' || c.fulfilment_type || ', nothing to deliver'
        when c.is_ambiguous then 'identity ambiguous: ' || c.evidence_detail
        when o.order_key is not null then 'a partner order is fulfilled by a different store and cross-store merging is off'
        when g.break_reason = 'group_sealed' then 'the earlier group was already dispatched when this order arrived'
        when g.break_reason = 'outside_window' then 'placed more than ' || g.window_minutes || ' min after the first order of the earlier group'
        when g.break_reason = 'too_far' then 'same address text, but its coordinates are more than {{ var("merge_max_distance_m") }} m from the earlier group''s'
        else 'no other order of this customer within the window'
    end as reason
from considered as c
left join {{ ref('int_merging__merge_groups') }} as g using (order_key)
left join other_store_within_window as o using (order_key)
