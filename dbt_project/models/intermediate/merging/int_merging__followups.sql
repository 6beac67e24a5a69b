-- Per delivery order: did the same customer order again to the same address within the merge window?
-- The label the merge-propensity model learns from (and is judged against on later days).

with candidates as (
    select
        o.order_key,
        i.customer_id,
        o.address_key,
        o.business_date,
        o.created_at
    from {{ ref('stg_raw__orders') }} as o
    inner join {{ ref('int_merging__customer_identities') }} as i using (order_key)
    left join {{ ref('int_orders__current_status') }} as s using (order_key)
    where o.fulfilment_type = 'delivery'
        and coalesce(s.current_status, o.status) <> 'cancelled'
        and not i.is_ambiguous
)

select
    order_key,
    customer_id,
    address_key,
    business_date,
    created_at,
    coalesce(
        lead(created_at) over (partition by customer_id, address_key order by created_at, order_key)
            <= created_at + to_minutes({{ var('merge_window_minutes') }}),
        false
    ) as followed_up
from candidates
