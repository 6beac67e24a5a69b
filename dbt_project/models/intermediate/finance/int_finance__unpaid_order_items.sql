-- The expected_order items of fct_reconciliation_lines: orders the statements have not paid, awaiting on
-- their own business day (recon_date = business_date) and missing on the first statement day of their
-- channel at least recon_settlement_grace_days after it (recon_date = that statement day). An order paid
-- or cancelled by a day is not reported on it. Each row depends only on data dated up to its day.
{% set grace = var('recon_settlement_grace_days') %}

with

all_lines as (
    select * from {{ ref('stg_raw__settlement_lines') }}
),

orders as (
    select * from {{ ref('int_finance__settlement_orders') }}
),

-- The first day each order was paid on its own statement channel, and the statement days per channel.
first_paid as (
    select settlement_channel, channel_order_id, min(statement_date) as first_paid_on
    from all_lines
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
    select due.business_date as recon_date, due.*, 'awaiting_settlement' as category
    from due
    where (due.cancelled_on is null or due.cancelled_on > due.business_date)
        and (due.first_paid_on is null or due.first_paid_on > due.business_date)
    union all
    select due.report_date as recon_date, due.*, 'missing_settlement' as category
    from due
    where due.report_date is not null
        and (due.cancelled_on is null or due.cancelled_on > due.report_date)
        and (due.first_paid_on is null or due.first_paid_on > due.report_date)
)

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
