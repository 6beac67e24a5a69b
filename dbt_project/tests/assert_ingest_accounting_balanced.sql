-- Every landed record must be accounted for: landed = loaded + quarantined + duplicate for every
-- (batch_id, channel). Returns the batches that break it (any NULL count breaks it too); a row here
-- means ingestion lost or invented records and the batch must be investigated before trusting the marts.
select
    batch_id,
    channel,
    landed,
    loaded,
    quarantined,
    duplicate,
    landed - (loaded + quarantined + duplicate) as unaccounted
from {{ ref('fct_ingest_accounting') }}
where not is_balanced
    or landed is null or loaded is null or quarantined is null or duplicate is null
    or landed <> loaded + quarantined + duplicate
