-- What was rejected, by channel and reason, and over which period (quarantined_at, naive UTC).

select
    channel,
    error_code,
    count(*) as records,
    min(quarantined_at) as first_at,
    max(quarantined_at) as last_at
from {{ ref('stg_raw__quarantine') }}
group by channel, error_code
