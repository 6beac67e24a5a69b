-- The promotion calendar (reference data). channel is a sales channel or 'all'; amounts in yuan;
-- platform_share is the fraction of a promotion's reduction the platform funds (the merchant the rest).
--
-- A calendar is restated over and over (every day's reference export lists the promotions running around
-- it), and a restatement may move a promotion's window or change its terms. raw.promotions keeps every
-- window (keyed by promo_id and starts_at), so an order is priced against the calendar that was in effect when
-- it was sold, also in the nightly full rebuild, months later. Where the windows of one promotion overlap,
-- the later-starting one takes over from its start: ends_at here is where the next window of the same
-- promotion begins, if that is earlier than the window's own end (stated_ends_at).
with source as (
    select * from {{ source('raw', 'promotions') }}
)

select
    promo_id,
    channel,
    kind as promo_kind,
    cast(coalesce(threshold, 0) as decimal(18, 2)) as threshold_amount,
    cast(amount as decimal(18, 2)) as reduce_amount,
    sku_id,
    starts_at,
    least(ends_at, coalesce(lead(starts_at) over (partition by promo_id order by starts_at), ends_at)) as ends_at,
    ends_at as stated_ends_at,
    coalesce(platform_share, 0.0) as platform_share
from source
