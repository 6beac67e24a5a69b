{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ recon_replace_window('recon_date') }}",
    )
}}
-- One row per recon date and statement channel (all six, every day): did the statement arrive, how many
-- items matched, cleared late, are still open or are variances (by category), and the money involved.
-- Rebuilt per recon date like fct_reconciliation_lines, from its rows of the same days.
-- day_status: statement_incomplete (the statement's latest delivery had records that could not be loaded, such as
-- a summary that disagrees with the rows or a row that cannot be read, so what was loaded is not the whole
-- statement and "balanced" cannot be said), no_statement (nothing from the channel that day), variances, or
-- balanced.

with

recon_dates as (
    {{ recon_dates_query(ref('stg_raw__settlement_lines'), ref('int_finance__settlement_orders')) }}
),

channels as (
    select * from (values ('meituan'), ('eleme'), ('wechatpay'), ('alipay'), ('pos'), ('groupbuy'))
        as channels (settlement_channel)
),

statements as (
    select
        lines.statement_date as recon_date,
        lines.settlement_channel,
        count(*) filter (where lines.line_type <> 'summary') as statement_lines,
        count(distinct lines.source_file) as statement_files,
        sum(lines.net_amount) filter (where lines.line_type <> 'summary') as settled_net
    from {{ ref('stg_raw__settlement_lines') }} as lines
    inner join recon_dates
        on recon_dates.recon_date = lines.statement_date
    group by all
),

-- Every delivery of a channel's statement for a day (a batch that loaded or rejected any of its records); a later
-- delivery, such as the bill fetched again, supersedes what an earlier one rejected.
deliveries as (
    select lines.statement_date as recon_date, lines.settlement_channel, lines.batch_id, 0 as rejected
    from {{ ref('stg_raw__settlement_lines') }} as lines
    inner join recon_dates
        on recon_dates.recon_date = lines.statement_date
    union all
    select rejects.recon_date, rejects.settlement_channel, rejects.batch_id, 1
    from (
        -- A statement's records sit under settlements/<channel>/<day>/ (docs/landing-formats.md).
        select
            cast(regexp_extract(source_file, '^settlements/[^/]+/([0-9]{4}-[0-9]{2}-[0-9]{2})/', 1) as date)
                as recon_date,
            regexp_extract(source_file, '^settlements/([^/]+)/', 1) as settlement_channel,
            batch_id
        from {{ ref('stg_raw__quarantine') }}
        where source_file like 'settlements/%'
    ) as rejects
    inner join recon_dates
        on recon_dates.recon_date = rejects.recon_date
),

rejects as (
    select recon_date, settlement_channel, sum(rejected) as statement_rejects
    from deliveries
    where (recon_date, settlement_channel, batch_id) in (
        select (recon_date, settlement_channel, max(batch_id)) from deliveries group by recon_date, settlement_channel
    )
    group by all
),

items as (
    select
        recon_date,
        settlement_channel,
        count(*) as items,
        count(*) filter (where recon_status = 'matched') as matched,
        count(*) filter (where recon_status = 'cleared') as timing_differences,
        count(*) filter (where recon_status = 'open') as awaiting,
        count(*) filter (where recon_status = 'variance') as variances,
        count(*) filter (where category = 'missing_settlement') as missing_settlements,
        count(*) filter (where category = 'unknown_order') as unknown_orders,
        count(*) filter (where category = 'amount_mismatch') as amount_mismatches,
        count(*) filter (where category = 'fee_mismatch') as fee_mismatches,
        count(*) filter (where category = 'duplicate_settlement') as duplicate_settlements,
        count(*) filter (where category = 'unexpected_refund') as unexpected_refunds,
        count(*) filter (where category = 'unexpected_settlement') as unexpected_settlements,
        count(*) filter (where category = 'tender_total_mismatch') as tender_total_mismatches,
        count(*) filter (where category = 'unallocated_adjustment') as unallocated_adjustments,
        sum(variance_amount) filter (where recon_status = 'variance') as variance_amount,
        sum(abs(variance_amount)) filter (where recon_status = 'variance') as variance_abs_amount,
        sum(variance_amount) filter (where recon_status = 'cleared') as cleared_amount,
        sum(expected_net) filter (where recon_status = 'open') as awaiting_amount
    from {{ ref('fct_reconciliation_lines') }}
    where recon_date in (select recon_date from recon_dates)
    group by all
)

select
    cast(recon_dates.recon_date as date) as recon_date,
    cast(channels.settlement_channel as varchar) as settlement_channel,
    cast(statements.recon_date is not null as boolean) as statement_received,
    cast(coalesce(statements.statement_files, 0) as bigint) as statement_files,
    cast(coalesce(statements.statement_lines, 0) as bigint) as statement_lines,
    cast(coalesce(items.items, 0) as bigint) as items,
    cast(coalesce(items.matched, 0) as bigint) as matched,
    cast(coalesce(items.timing_differences, 0) as bigint) as timing_differences,
    cast(coalesce(items.awaiting, 0) as bigint) as awaiting,
    cast(coalesce(items.variances, 0) as bigint) as variances,
    cast(coalesce(items.missing_settlements, 0) as bigint) as missing_settlements,
    cast(coalesce(items.unknown_orders, 0) as bigint) as unknown_orders,
    cast(coalesce(items.amount_mismatches, 0) as bigint) as amount_mismatches,
    cast(coalesce(items.fee_mismatches, 0) as bigint) as fee_mismatches,
    cast(coalesce(items.duplicate_settlements, 0) as bigint) as duplicate_settlements,
    cast(coalesce(items.unexpected_refunds, 0) as bigint) as unexpected_refunds,
    cast(coalesce(items.unexpected_settlements, 0) as bigint) as unexpected_settlements,
    cast(coalesce(items.tender_total_mismatches, 0) as bigint) as tender_total_mismatches,
    cast(coalesce(items.unallocated_adjustments, 0) as bigint) as unallocated_adjustments,
    cast(coalesce(statements.settled_net, 0) as decimal(18, 2)) as settled_net,
    cast(coalesce(items.variance_amount, 0) as decimal(18, 2)) as variance_amount,
    cast(coalesce(items.variance_abs_amount, 0) as decimal(18, 2)) as variance_abs_amount,
    cast(coalesce(items.cleared_amount, 0) as decimal(18, 2)) as cleared_amount,
    cast(coalesce(items.awaiting_amount, 0) as decimal(18, 2)) as awaiting_amount,
    cast(coalesce(rejects.statement_rejects, 0) as bigint) as statement_rejects,
    cast(case
        when rejects.statement_rejects > 0 then 'statement_incomplete'
        when statements.recon_date is null then 'no_statement'
        when coalesce(items.variances, 0) > 0 then 'variances'
        else 'balanced'
    end as varchar) as day_status
from recon_dates
cross join channels
left join statements
    on statements.recon_date = recon_dates.recon_date
    and statements.settlement_channel = channels.settlement_channel
left join items
    on items.recon_date = recon_dates.recon_date
    and items.settlement_channel = channels.settlement_channel
left join rejects
    on rejects.recon_date = recon_dates.recon_date
    and rejects.settlement_channel = channels.settlement_channel
