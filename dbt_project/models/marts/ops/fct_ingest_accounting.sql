-- Row accounting per ingest micro-batch and channel: every landed record must end up loaded,
-- quarantined or recognised as a duplicate (landed = loaded + quarantined + duplicate).
-- tests/assert_ingest_accounting_balanced.sql fails the build on any batch where that does not hold.
-- quarantine_rows counts what actually sits in raw.quarantine for the batch, to check `quarantined`
-- against.

with batches as (
    select * from {{ ref('stg_raw__ingest_batches') }}
),

quarantined_rows as (
    select batch_id, channel, count(*) as quarantine_rows
    from {{ ref('stg_raw__quarantine') }}
    group by batch_id, channel
)

select
    batches.batch_id,
    batches.channel,
    batches.files,
    batches.landed,
    batches.loaded,
    batches.quarantined,
    batches.duplicate,
    batches.started_at,
    batches.finished_at,
    coalesce(quarantined_rows.quarantine_rows, 0) as quarantine_rows,
    -- A missing count is not a balance: NULL arithmetic would otherwise hide it.
    coalesce(batches.landed = batches.loaded + batches.quarantined + batches.duplicate, false) as is_balanced
from batches
left join quarantined_rows
    on quarantined_rows.batch_id = batches.batch_id
    and quarantined_rows.channel = batches.channel
