{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ recon_replace_window('statement_date') }}",
    )
}}
-- T+1 settlement: what each channel's statement of day T pays out (on T+1), one row per statement day and
-- channel that has a statement. Totals are of the detail lines; stated_net is the statement's own total
-- where its layout states one (WeChat Pay summary row, POS and group-buy 合计 rows; Alipay states what was
-- received before its service fee, Meituan and Eleme no total), and totals_agree compares the two. A day
-- delivered in several layouts (WeChat Pay's ALL bill beside its SUCCESS or REFUND bill) holds each transaction
-- once, so its stated total is the whole bill's where one states trades, else the partial bills' together.
-- Rebuilt per statement day (= recon date) like the other finance marts.
{% set tol = var('recon_amount_tolerance_yuan') %}

with

recon_dates as (
    {{ recon_dates_query(ref('stg_raw__settlement_lines'), ref('int_finance__settlement_orders')) }}
),

lines as (
    select lines.*
    from {{ ref('stg_raw__settlement_lines') }} as lines
    inner join recon_dates
        on recon_dates.recon_date = lines.statement_date
),

totals as (
    select
        statement_date,
        settlement_channel,
        count(distinct source_file) as statement_files,
        count(*) filter (where line_type = 'payment') as payment_lines,
        count(*) filter (where line_type = 'refund') as refund_lines,
        count(*) filter (where line_type in ('fee', 'adjustment')) as other_lines,
        coalesce(sum(txn_count) filter (where line_type <> 'summary'), 0) as txn_count,
        coalesce(sum(gross_amount) filter (where line_type <> 'summary'), 0) as gross_amount,
        coalesce(sum(refund_amount) filter (where line_type <> 'summary'), 0) as refund_amount,
        coalesce(sum(fee_amount) filter (where line_type <> 'summary'), 0) as fee_amount,
        coalesce(sum(net_amount) filter (where line_type <> 'summary'), 0) as net_amount,
        case
            when count(*) filter (where line_type = 'summary' and summary_of is null and txn_count > 0) > 0
                then sum(net_amount) filter (where line_type = 'summary' and summary_of is null)
            else sum(net_amount) filter (where line_type = 'summary')
        end as stated_net
    from lines
    group by all
)

select
    cast(statement_date as date) as statement_date,
    cast(settlement_channel as varchar) as settlement_channel,
    cast(statement_date + 1 as date) as payout_date,
    cast(statement_files as bigint) as statement_files,
    cast(payment_lines as bigint) as payment_lines,
    cast(refund_lines as bigint) as refund_lines,
    cast(other_lines as bigint) as other_lines,
    cast(txn_count as bigint) as txn_count,
    cast(gross_amount as decimal(18, 2)) as gross_amount,
    cast(refund_amount as decimal(18, 2)) as refund_amount,
    cast(fee_amount as decimal(18, 2)) as fee_amount,
    cast(net_amount as decimal(18, 2)) as net_amount,
    cast(stated_net as decimal(18, 2)) as stated_net,
    cast(case when stated_net is not null then abs(stated_net - net_amount) <= {{ tol }} end as boolean) as totals_agree
from totals
