{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ recon_replace_window('recon_date') }}",
    )
}}
-- Settlement reconciliation, one row per item and recon date (issue 5). Items:
--   statement_line  a per-order line of that day's statements, matched to the order it names;
--   expected_order  an order the statements have not paid: awaiting on its own business day, missing on
--                   the first statement day at least recon_settlement_grace_days after it;
--   tender_total    a POS end-of-day total per store and tender against the tills' tickets.
-- category says what was found; recon_status is matched, cleared (a timing difference), open (awaiting)
-- or variance. variance_amount is the money at stake: settled net − expected net for mismatches, the
-- line's net for lines that should not be there, − expected net for a missing payment, and for a timing
-- difference the amount that arrived late.
--
-- Rebuilt per recon date (vars recon_date_from / recon_date_to, macros/recon.sql): the pre_hook deletes
-- those days and this query inserts them again. Every day's rows use only statements and orders dated up
-- to that day, so a backfill equals day-by-day runs, in any order.
{% set tol = var('recon_amount_tolerance_yuan') %}
{% set fee_tol = var('recon_fee_tolerance_yuan') %}
{% set grace = var('recon_settlement_grace_days') %}

with

recon_dates as (
    {{ recon_dates_query(ref('stg_raw__settlement_lines'), ref('int_settlement_orders')) }}
),

all_lines as (
    select * from {{ ref('stg_raw__settlement_lines') }}
),

statement_lines as (
    select * from all_lines where line_type <> 'summary'
),

orders as (
    select * from {{ ref('int_settlement_orders') }}
),

-- Orders each statement channel may name: a WeChat Pay bill names app and mini-program orders, etc.
payable as (
    select coverage.settlement_channel as statement_channel, orders.*
    from orders
    inner join ({{ settlement_coverage() }}) as coverage
        on coverage.sales_channel = orders.sales_channel
),

-- The n-th payment of the same order on the same statement channel, in statement order. A line's number
-- depends only on lines of its own and earlier days.
payment_numbers as (
    select
        settlement_line_id,
        row_number() over (
            partition by settlement_channel, channel_order_id
            order by statement_date, settled_at nulls first, source_file, source_line
        ) as payment_no
    from statement_lines
    where line_type = 'payment' and tender is null
),

day_lines as (
    select
        recon_dates.recon_date,
        lines.*,
        payable.order_key as matched_order_key,
        payable.sales_channel,
        payable.business_date,
        payable.settlement_channel as expected_channel,
        payable.cancelled_on,
        payable.expected_gross,
        payable.expected_fee,
        payable.expected_net,
        payable.expected_basis,
        coalesce(payment_numbers.payment_no, 1) as payment_no
    from statement_lines as lines
    inner join recon_dates
        on recon_dates.recon_date = lines.statement_date
    -- Only orders that exist by the statement's day: later data never changes an earlier day.
    left join payable
        on payable.statement_channel = lines.settlement_channel
        and payable.channel_order_id = lines.channel_order_id
        and payable.business_date <= lines.statement_date
    left join payment_numbers
        on payment_numbers.settlement_line_id = lines.settlement_line_id
    where lines.tender is null
),

classified_lines as (
    select
        *,
        case
            when line_type in ('fee', 'adjustment') then 'unallocated_adjustment'
            when matched_order_key is null then 'unknown_order'
            when line_type = 'refund' then
                case when cancelled_on <= recon_date and abs(refund_amount - expected_gross) <= {{ tol }}
                    then 'matched' else 'unexpected_refund' end
            when payment_no > 1 then 'duplicate_settlement'
            -- Payment bills list a cancelled order's payment and its refund; platforms and leaders do not pay it.
            when expected_channel is distinct from settlement_channel
                or (cancelled_on <= recon_date and settlement_channel not in ('wechatpay', 'alipay'))
                then 'unexpected_settlement'
            when abs(gross_amount - expected_gross) > {{ tol }} then 'amount_mismatch'
            -- A platform-stated payout is checked on the net: its deductions are the platform's own, not our rates,
            -- and platforms itemise them differently (Eleme's commissionFee, Meituan's technical and performance
            -- service fees), so the statement's fee column cannot be compared. The gross agreeing, whatever makes
            -- the net differ was deducted between the two: a fee mismatch, not an amount one.
            when expected_basis = 'platform_stated' and abs(net_amount - expected_net) > {{ fee_tol }}
                then 'fee_mismatch'
            when expected_basis is distinct from 'platform_stated' and abs(fee_amount - expected_fee) > {{ fee_tol }}
                then 'fee_mismatch'
            when expected_basis is distinct from 'platform_stated' and abs(net_amount - expected_net) > {{ tol }}
                then 'amount_mismatch'
            when business_date < recon_date then 'timing_difference'
            else 'matched'
        end as category
    from day_lines
),

line_items as (
    select
        recon_date,
        settlement_channel,
        'statement_line' as item_type,
        category,
        line_type,
        sales_channel,
        matched_order_key as order_key,
        channel_order_id,
        transaction_id,
        store_id,
        tender,
        account_id,
        business_date,
        statement_date,
        case when matched_order_key is not null and line_type = 'payment'
            then cast(statement_date - business_date as integer) end as days_late,
        txn_count,
        cast(1 as bigint) as expected_txn_count,
        expected_gross,
        expected_fee,
        expected_net,
        case when matched_order_key is not null then coalesce(expected_basis, 'configured_rate') end as expected_basis,
        gross_amount,
        fee_amount,
        net_amount,
        refund_amount,
        case
            when category = 'matched' then 0
            when category in ('amount_mismatch', 'fee_mismatch') then net_amount - expected_net
            else net_amount
        end as variance_amount,
        case category
            when 'matched' then case when line_type = 'refund' then 'refund of a cancelled order' else 'as expected' end
            when 'timing_difference' then 'order of ' || business_date || ' paid ' || (statement_date - business_date) || ' day(s) later'
            when 'unknown_order' then 'no order ' || coalesce(channel_order_id, '?') || ' in the system by this day'
            when 'duplicate_settlement' then 'payment no. ' || payment_no || ' of this order on ' || settlement_channel
            when 'unexpected_refund' then
                case when cancelled_on <= recon_date
                    then 'refund ' || refund_amount || ' differs from the paid ' || expected_gross
                    else 'refund ' || refund_amount || ' for an order that is not cancelled' end
            when 'unexpected_settlement' then
                case when expected_channel is distinct from settlement_channel
                    then 'order settles on ' || coalesce(expected_channel, 'no statement') || ', not here'
                    else 'order was cancelled on ' || cancelled_on end
            when 'amount_mismatch' then 'statement gross ' || gross_amount || ' net ' || net_amount
                || '; order gross ' || expected_gross || ' net ' || expected_net
            when 'fee_mismatch' then
                case when expected_basis = 'platform_stated'
                    then 'gross ' || gross_amount || ' as ordered; paid ' || net_amount || ' where the order states '
                        || expected_net || ': deductions ' || (expected_fee + expected_net - net_amount)
                        || ' instead of ' || expected_fee
                    else 'fee ' || fee_amount || '; contract fee ' || expected_fee end
            when 'unallocated_adjustment' then 'statement ' || line_type || ' not tied to an order'
        end as explanation,
        source_file,
        source_line,
        settlement_line_id as item_ref
    from classified_lines
),

-- The first day each order was paid on its own statement channel, and the statement days per channel.
first_paid as (
    select settlement_channel, channel_order_id, min(statement_date) as first_paid_on
    from statement_lines
    where line_type = 'payment' and tender is null
    group by settlement_channel, channel_order_id
),

statement_days as (
    select distinct settlement_channel, statement_date from all_lines
),

due as (
    select
        orders.*,
        first_paid.first_paid_on,
        statement_days.statement_date as report_date
    from orders
    left join first_paid
        on first_paid.settlement_channel = orders.settlement_channel
        and first_paid.channel_order_id = orders.channel_order_id
    -- The first statement of the order's channel at least `grace` days after its business day.
    asof left join statement_days
        on statement_days.settlement_channel = orders.settlement_channel
        and statement_days.statement_date >= orders.business_date + {{ grace }}
    where orders.settlement_channel not in ('pos')
),

unpaid as (
    select recon_dates.recon_date, due.*, 'awaiting_settlement' as category
    from due
    inner join recon_dates
        on recon_dates.recon_date = due.business_date
    where (due.cancelled_on is null or due.cancelled_on > recon_dates.recon_date)
        and (due.first_paid_on is null or due.first_paid_on > recon_dates.recon_date)
    union all
    select recon_dates.recon_date, due.*, 'missing_settlement' as category
    from due
    inner join recon_dates
        on recon_dates.recon_date = due.report_date
    where (due.cancelled_on is null or due.cancelled_on > recon_dates.recon_date)
        and (due.first_paid_on is null or due.first_paid_on > recon_dates.recon_date)
),

unpaid_items as (
    select
        recon_date,
        settlement_channel,
        'expected_order' as item_type,
        category,
        cast(null as varchar) as line_type,
        sales_channel,
        order_key,
        channel_order_id,
        cast(null as varchar) as transaction_id,
        store_id,
        cast(null as varchar) as tender,
        cast(null as varchar) as account_id,
        business_date,
        cast(null as date) as statement_date,
        cast(recon_date - business_date as integer) as days_late,
        cast(0 as bigint) as txn_count,
        cast(1 as bigint) as expected_txn_count,
        expected_gross,
        expected_fee,
        expected_net,
        coalesce(expected_basis, 'configured_rate') as expected_basis,
        cast(null as decimal(18, 2)) as gross_amount,
        cast(null as decimal(18, 2)) as fee_amount,
        cast(null as decimal(18, 2)) as net_amount,
        cast(null as decimal(18, 2)) as refund_amount,
        case when category = 'missing_settlement' then -expected_net else 0 end as variance_amount,
        case when category = 'missing_settlement'
            then 'not paid on any ' || settlement_channel || ' statement through ' || recon_date
            else 'not on today''s statement yet' end as explanation,
        cast(null as varchar) as source_file,
        cast(null as bigint) as source_line,
        order_key as item_ref
    from unpaid
),

-- POS: end-of-day totals per store and tender against the tickets of the day (cancelled ones excluded).
pos_expected as (
    select
        recon_dates.recon_date,
        orders.store_id,
        orders.payment_method as tender,
        count(*) as expected_txn_count,
        sum(orders.expected_gross) as expected_gross
    from orders
    inner join recon_dates
        on recon_dates.recon_date = orders.business_date
    where orders.settlement_channel = 'pos'
        and (orders.cancelled_on is null or orders.cancelled_on > orders.business_date)
    group by all
),

pos_expected_priced as (
    select
        *,
        cast(round(expected_gross * {{ recon_rate(var('recon_pos_tender_fee_rates'), 'tender') }}, 2) as decimal(18, 2))
            as expected_fee
    from pos_expected
),

pos_lines as (
    select lines.*
    from statement_lines as lines
    inner join recon_dates
        on recon_dates.recon_date = lines.statement_date
    where lines.tender is not null
),

pos_compared as (
    select
        coalesce(pos_lines.statement_date, expected.recon_date) as recon_date,
        coalesce(pos_lines.store_id, expected.store_id) as store_id,
        coalesce(pos_lines.tender, expected.tender) as tender,
        pos_lines.line_type,
        pos_lines.account_id,
        pos_lines.statement_date,
        pos_lines.txn_count,
        coalesce(expected.expected_txn_count, 0) as expected_txn_count,
        coalesce(expected.expected_gross, 0) as expected_gross,
        coalesce(expected.expected_fee, 0) as expected_fee,
        coalesce(expected.expected_gross - expected.expected_fee, 0) as expected_net,
        pos_lines.gross_amount,
        pos_lines.fee_amount,
        pos_lines.net_amount,
        pos_lines.refund_amount,
        pos_lines.source_file,
        pos_lines.source_line
    from pos_lines
    full outer join pos_expected_priced as expected
        on expected.recon_date = pos_lines.statement_date
        and expected.store_id = pos_lines.store_id
        and expected.tender = pos_lines.tender
),

pos_items as (
    select
        recon_date,
        'pos' as settlement_channel,
        'tender_total' as item_type,
        case
            when net_amount is null then 'tender_total_mismatch'
            when txn_count <> expected_txn_count or abs(gross_amount - expected_gross) > {{ tol }} then 'tender_total_mismatch'
            when abs(fee_amount - expected_fee) > {{ fee_tol }} then 'fee_mismatch'
            when abs(net_amount - expected_net) > {{ tol }} then 'tender_total_mismatch'
            else 'matched'
        end as category,
        line_type,
        'pos' as sales_channel,
        cast(null as varchar) as order_key,
        cast(null as varchar) as channel_order_id,
        cast(null as varchar) as transaction_id,
        store_id,
        tender,
        account_id,
        recon_date as business_date,
        statement_date,
        cast(null as integer) as days_late,
        coalesce(txn_count, 0) as txn_count,
        expected_txn_count,
        expected_gross,
        expected_fee,
        expected_net,
        'configured_rate' as expected_basis,
        gross_amount,
        fee_amount,
        net_amount,
        refund_amount,
        coalesce(net_amount, 0) - expected_net as variance_amount,
        'tills ' || expected_txn_count || ' tickets ' || expected_gross
            || '; statement ' || coalesce(cast(txn_count as varchar), 'none') || ' ' || coalesce(cast(gross_amount as varchar), '-')
            as explanation,
        source_file,
        source_line,
        store_id || '/' || tender as item_ref
    from pos_compared
),

items as (
    select * from line_items
    union all by name
    select * from unpaid_items
    union all by name
    select * from pos_items
)

select
    cast({{ hash_key(['recon_date', 'item_type', 'settlement_channel', 'item_ref']) }} as varchar) as recon_line_id,
    cast(recon_date as date) as recon_date,
    cast(settlement_channel as varchar) as settlement_channel,
    cast(item_type as varchar) as item_type,
    cast(category as varchar) as category,
    cast(case
        when category = 'matched' then 'matched'
        when category = 'timing_difference' then 'cleared'
        when category = 'awaiting_settlement' then 'open'
        else 'variance'
    end as varchar) as recon_status,
    cast(line_type as varchar) as line_type,
    cast(sales_channel as varchar) as sales_channel,
    cast(order_key as varchar) as order_key,
    cast(channel_order_id as varchar) as channel_order_id,
    cast(transaction_id as varchar) as transaction_id,
    cast(store_id as varchar) as store_id,
    cast(tender as varchar) as tender,
    cast(account_id as varchar) as account_id,
    cast(business_date as date) as business_date,
    cast(statement_date as date) as statement_date,
    cast(days_late as integer) as days_late,
    cast(txn_count as bigint) as txn_count,
    cast(expected_txn_count as bigint) as expected_txn_count,
    cast(expected_gross as decimal(18, 2)) as expected_gross,
    cast(expected_fee as decimal(18, 2)) as expected_fee,
    cast(expected_net as decimal(18, 2)) as expected_net,
    cast(expected_basis as varchar) as expected_basis,
    cast(gross_amount as decimal(18, 2)) as gross_amount,
    cast(fee_amount as decimal(18, 2)) as fee_amount,
    cast(net_amount as decimal(18, 2)) as net_amount,
    cast(refund_amount as decimal(18, 2)) as refund_amount,
    cast(variance_amount as decimal(18, 2)) as variance_amount,
    cast(explanation as varchar) as explanation,
    cast(source_file as varchar) as source_file,
    cast(source_line as bigint) as source_line
from items
