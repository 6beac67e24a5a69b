-- Settlement statement lines as loaded. `channel` is renamed settlement_channel: it names the
-- statement (wechatpay, alipay …), not the sales channel of an order, which reconciliation resolves.
with source as (
    select * from {{ source('raw', 'settlement_lines') }}
)

select
    {{ hash_key(['channel', 'statement_date', 'raw_hash']) }} as settlement_line_id,
    channel as settlement_channel,
    statement_date,
    line_type,
    channel_order_id,
    order_key,
    transaction_id,
    refund_id,
    store_id,
    account_id,
    tender,
    summary_of,
    txn_count,
    cast(gross_amount as decimal(18, 2)) as gross_amount,
    cast(fee_amount as decimal(18, 2)) as fee_amount,
    cast(net_amount as decimal(18, 2)) as net_amount,
    cast(refund_amount as decimal(18, 2)) as refund_amount,
    settled_at,
    {{ to_local_ts('settled_at') }} as settled_at_local,
    source_file,
    source_line,
    raw_hash,
    batch_id
from source
