-- The statement_line items of fct_reconciliation_lines: every per-order line of every statement (POS tender
-- totals and summaries aside), on its statement day (recon_date), matched to the order it names and
-- classified. Each row depends only on statements and orders dated up to its day, so the mart can keep the
-- days it rebuilds and get what a run of those days alone would give.
{% set tol = var('recon_amount_tolerance_yuan') %}
{% set fee_tol = var('recon_fee_tolerance_yuan') %}

with

statement_lines as (
    select * from {{ ref('stg_raw__settlement_lines') }}
    where line_type <> 'summary'
),

orders as (
    select * from {{ ref('int_finance__settlement_orders') }}
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
        lines.statement_date as recon_date,
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
)

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
