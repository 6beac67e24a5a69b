-- The tender_total items of fct_reconciliation_lines: each POS end-of-day total per store and tender on a
-- statement day, against the tills' tickets of that business day (cancelled tickets excluded). A total with
-- no tickets, and tickets with no total, are items too. recon_date is the statement / business day.
{% set tol = var('recon_amount_tolerance_yuan') %}
{% set fee_tol = var('recon_fee_tolerance_yuan') %}

with

orders as (
    select * from {{ ref('int_finance__settlement_orders') }}
),

pos_expected as (
    select
        orders.business_date as recon_date,
        orders.store_id,
        orders.payment_method as tender,
        count(*) as expected_txn_count,
        sum(orders.expected_gross) as expected_gross
    from orders
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
    select * from {{ ref('stg_raw__settlement_lines') }}
    where line_type <> 'summary' and tender is not null
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
)

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
