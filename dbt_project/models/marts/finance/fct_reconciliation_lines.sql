{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ recon_replace_window('recon_date') }}",
    )
}}
-- Settlement reconciliation, one row per item and recon date. Items:
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
--
-- The three kinds of item are built in intermediate/finance (int_finance__statement_line_items,
-- int_finance__unpaid_order_items, int_finance__pos_tender_items) for every day; this model keeps the days
-- being rebuilt and gives the rows their status and contract types.

with

recon_dates as (
    {{ recon_dates_query(ref('stg_raw__settlement_lines'), ref('int_finance__settlement_orders')) }}
),

all_items as (
    select * from {{ ref('int_finance__statement_line_items') }}
    union all by name
    select * from {{ ref('int_finance__unpaid_order_items') }}
    union all by name
    select * from {{ ref('int_finance__pos_tender_items') }}
),

items as (
    select * from all_items
    where recon_date in (select recon_date from recon_dates)
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
