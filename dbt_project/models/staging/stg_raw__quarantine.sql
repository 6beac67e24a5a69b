with source as (
    select * from {{ source('raw', 'quarantine') }}
)

select
    channel,
    source_file,
    source_line,
    raw as raw_record,
    error_code,
    message as error_message,
    batch_id,
    quarantined_at
from source
