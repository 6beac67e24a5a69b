with source as (
    select * from {{ source('raw', 'ingest_batches') }}
)

select
    batch_id,
    channel,
    files,
    landed,
    loaded,
    quarantined,
    duplicate,
    started_at,
    finished_at
from source
