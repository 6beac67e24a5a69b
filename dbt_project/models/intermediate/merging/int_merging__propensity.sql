-- How likely each customer is to add a follow-up order within the merge window, as known before each day.
--
-- For every customer and every business day they order on, the estimate uses only earlier days: a
-- beta-binomial shrinkage of the customer's own follow-up rate towards the global rate of those days,
-- p = (k + s·g) / (n + s), with s = merge_dynamic_window.prior_strength. New customers get the global rate.
-- Deliberately simple: one parameter, no leakage from the day being predicted, and its quality on held-out
-- days is measured against the global-rate baseline (bench/merge_propensity_eval.py).

{%- set rules = var('merge_dynamic_window') %}

with labelled as (
    select * from {{ ref('int_merging__followups') }}
),

daily as (
    select
        customer_id,
        business_date,
        count(*) as orders,
        count(*) filter (where followed_up) as followed_up
    from labelled
    group by customer_id, business_date
),

global_daily as (
    select business_date, sum(orders) as orders, sum(followed_up) as followed_up
    from daily
    group by business_date
),

global_history as (
    select
        business_date,
        sum(followed_up) over earlier / nullif(sum(orders) over earlier, 0) as global_rate
    from global_daily
    window earlier as (order by business_date rows between unbounded preceding and 1 preceding)
),

customer_history as (
    select
        customer_id,
        business_date,
        coalesce(sum(orders) over earlier, 0) as history_orders,
        coalesce(sum(followed_up) over earlier, 0) as history_followed_up
    from daily
    window earlier as (partition by customer_id order by business_date rows between unbounded preceding and 1 preceding)
),

estimated as (
    select
        c.customer_id,
        c.business_date,
        c.history_orders,
        c.history_followed_up,
        g.global_rate,
        (c.history_followed_up + {{ rules['prior_strength'] }} * coalesce(g.global_rate, 0))
            / (c.history_orders + {{ rules['prior_strength'] }}) as propensity
    from customer_history as c
    inner join global_history as g using (business_date)
)

select
    *,
    case
        when propensity >= {{ rules['propensity_threshold'] }} then {{ rules['high_propensity_window_minutes'] }}
        else {{ rules['low_propensity_window_minutes'] }}
    end as window_minutes
from estimated
