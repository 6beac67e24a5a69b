{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ record_touched('order_key', exception_orders(), ['rebuilt']) }}", "{{ delete_exception_partitions() }}"],
    post_hook=["{{ mark_batches_consumed() }}", "{{ record_exceptions_clock() }}"]
) }}
-- Problems operations should act on, one row per (exception_type, order_key): open (resolved_at NULL) or
-- resolved, with when each was raised and resolved.
--
-- "Now" is var as_of (macro as_of(): the run's clock, passed by the orchestrator; the wall clock in UTC
-- without it), not the newest order: when orders stop arriving, late risk must keep growing. A replayed
-- or simulated day passes its own as_of, so a rebuild of the same data at the same as_of gives the same
-- exceptions. Orders in var closed_statuses (delivered, cancelled) leave no address or lateness problem open:
-- there is nothing left to deliver, so such a problem is resolved when the order closed (status_at of its
-- closing status), and is not listed at all if the order closed before the problem arose. A missing
-- payment stays a problem after delivery (money not collected); only a cancellation resolves it.
--
--   out_of_stock     the order took stock that was not available (fct_oversell_events): replenish;
--                    resolved by the next WMS count or the order's cancellation
--   bad_address      delivery address that resolves to no district, or to a city other than the store's
--                    (undeliverable): contact the customer
--   price_mismatch   what we charge (paid + platform-funded discount) off every correct pricing, or the
--                    platform funding less than its share of our promotions (fct_order_price_checks); a
--                    platform's own promotion is not one: manual review; resolved by cancellation
--   late_risk        delivery promise within var late_risk_minutes of now, not delivered: expedite dispatch;
--                    kept once resolved only if the promise was broken or the order cancelled meanwhile
--   payment_missing  online order with no payment recorded: manual review
--   amounts_inconsistent  the order's own amounts do not add up (fct_order_amount_checks: paid ≠ goods −
--                    discounts + fees, or Σ lines ≠ goods): loaded and delivered, finance reviews the money;
--                    resolved by cancellation
--
-- Incremental (macros/exceptions.sql): an order's rows depend on its own order, checks and the clock, and the
-- clock only decides whether a delivery order is inside its late-risk window yet. So a micro-batch rebuilds
-- the orders it changed, the orders whose window the clock entered (or left) since the last build, and
-- out_of_stock whole (an oversell is resolved by a WMS count, which names no order). A late-risk row names the
-- order's status, not the time it was seen in it ("still picking"): a row that moved with the clock had to be
-- rewritten for every open order every run, and orders a channel never closes pile up (bench/results/scale.md).
-- How long a promise has been broken is now − promised_to, which the screen computes.

with orders as (
    select
        *,
        current_status in {{ sql_string_list(var('closed_statuses')) }} as is_closed,
        case when current_status in {{ sql_string_list(var('closed_statuses')) }} then status_at end as closed_at
    {% if is_incremental() %}
        from ({{ orders_with_rebuilt_exceptions() }}) as rebuilt
    {% else %}
        from {{ ref('fct_orders') }}
    {% endif %}
),

data_now as (
    select {{ as_of() }} as now_at
),

stores as (
    select store_id, city as store_city
    from {{ ref('stg_raw__stores') }}
),

bad_address as (
    select
        'bad_address' as exception_type,
        'high' as severity,
        orders.order_key,
        orders.channel,
        orders.store_id,
        orders.created_at as raised_at,
        case
            when orders.admin_code is null
                then 'address did not resolve to a district: ' || coalesce(orders.address_raw, '<empty>')
            else 'address resolves to ' || coalesce(orders.province, '') || coalesce(orders.district, '')
                || ', outside the store''s city ' || stores.store_city || ': ' || orders.address_raw
        end as detail,
        'contact_customer' as action,
        orders.closed_at as resolved_at
    from orders
    left join stores on stores.store_id = orders.store_id
    -- Only an address nobody can place needs the customer. A parsed address without coordinates
    -- (group-buy sheets carry none) is geocoded for dispatch, not escalated.
    where orders.fulfilment_type = 'delivery'
        and (orders.admin_code is null
            or (stores.store_city is not null and orders.city is distinct from stores.store_city))
        and (not orders.is_closed or orders.closed_at > orders.created_at)
),

payment_missing as (
    select
        'payment_missing' as exception_type,
        'medium' as severity,
        order_key,
        channel,
        store_id,
        created_at as raised_at,
        'no payment recorded for ' || coalesce(payment_method, 'unknown') || ' order in status '
            || current_status as detail,
        'manual_review' as action,
        case when is_cancelled then closed_at end as resolved_at
    from orders
    where paid_at is null
        -- Cash is taken at the door or the till, so there is no payment record to wait for.
        and coalesce(payment_method, '') not in {{ sql_string_list(offline_payment_methods()) }}
        and (not is_cancelled or closed_at > created_at)
),

late_candidates as (
    select
        orders.*,
        data_now.now_at,
        -- The moment the order entered the risk window (or was placed, if it was born inside it).
        greatest(
            orders.created_at,
            orders.promised_to - to_minutes({{ var('late_risk_minutes') }})
        ) as risk_from
    from orders
    cross join data_now
    where orders.fulfilment_type = 'delivery'
        -- An ASAP order (no promised_to) has no promise to break.
        and orders.promised_to < data_now.now_at + to_minutes({{ var('late_risk_minutes') }})
),

late_risk as (
    select
        'late_risk' as exception_type,
        'high' as severity,
        order_key,
        channel,
        store_id,
        risk_from as raised_at,
        'promised by ' || strftime({{ to_local_ts('promised_to') }}, '%Y-%m-%d %H:%M') || ' local, '
            || case
                when is_closed
                    then current_status || ' at ' || strftime({{ to_local_ts('closed_at') }}, '%Y-%m-%d %H:%M')
                else 'still ' || current_status
            end as detail,
        'expedite_dispatch' as action,
        closed_at as resolved_at
    from late_candidates
    -- Resolved rows are kept for promises actually broken (delivered after promised_to) and for orders
    -- cancelled while at risk; one delivered on time was a risk that passed, with nothing to review.
    where not is_closed
        or (closed_at > risk_from and (is_cancelled or closed_at > promised_to))
),

out_of_stock as (
    select
        'out_of_stock' as exception_type,
        'high' as severity,
        order_key,
        channel,
        store_id,
        min(ordered_at) as raised_at,
        string_agg(sku_id || ' x' || quantity || ' with ' || available_before || ' available (short '
            || shortfall_units || ')', '; ' order by sku_id) as detail,
        'replenish' as action,
        -- Resolved once every oversold line of the order is.
        case when bool_and(resolved_at is not null) then max(resolved_at) end as resolved_at
    from {{ ref('fct_oversell_events') }}
    group by order_key, channel, store_id
),

price_mismatch as (
    select
        'price_mismatch' as exception_type,
        'medium' as severity,
        order_key,
        channel,
        store_id,
        created_at as raised_at,
        'paid ' || paid_amount || ' + platform-funded ' || platform_discount || ', expected '
            || expected_paid_amount || ' + ' || expected_platform_discount
            || ' from the catalogue and promotions (difference ' || merchant_difference || ')'
            || case when mismatch_reason like '%platform_share%'
                then '; the platform funds ' || platform_discount || ', less than its share '
                    || expected_platform_discount || ' of our promotions'
                else '' end as detail,
        'manual_review' as action,
        case when is_cancelled then cancelled_at end as resolved_at
    from {{ ref('fct_order_price_checks') }}
    where is_price_mismatch
    {% if is_incremental() %}
        and order_key in (select order_key from {{ touched_table() }} where rebuilt)
    {% endif %}
),

amounts_inconsistent as (
    select
        'amounts_inconsistent' as exception_type,
        'medium' as severity,
        checks.order_key,
        checks.channel,
        checks.store_id,
        checks.created_at as raised_at,
        string_agg(checks.detail, '; ' order by checks.rule_id) as detail,
        'manual_review' as action,
        case when any_value(orders.is_cancelled) then any_value(orders.closed_at) end as resolved_at
    from {{ ref('fct_order_amount_checks') }} as checks
    inner join orders on orders.order_key = checks.order_key
    group by checks.order_key, checks.channel, checks.store_id, checks.created_at
),

exceptions as (
    select * from bad_address
    union all
    select * from payment_missing
    union all
    select * from late_risk
    union all
    select * from out_of_stock
    union all
    select * from price_mismatch
    union all
    select * from amounts_inconsistent
)

select
    {{ hash_key(['exception_type', 'order_key']) }} as exception_id,
    exception_type,
    severity,
    order_key,
    channel,
    store_id,
    raised_at,
    detail,
    action,
    resolved_at
from exceptions
