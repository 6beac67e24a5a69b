-- A table, not a view: identity matching and the merge walk feed several models and tests, and
-- recomputing them per reader costs seconds each at a million orders (bench/parcels_merge_split.py).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_touched('address_key', touched_addresses()) }}",
    post_hook="{{ mark_batches_consumed() }}"
) }}
-- Incremental by address (macros/incremental.sql): a micro-batch rebuilds every order at the addresses its
-- orders were ever at, from all of history, since who ordered at a door is decided among all its orders.

-- Who placed each order, across channels, with the evidence and a confidence.
--
-- Channels identify people differently: the app and mini-program see full mobile numbers; Meituan and
-- Eleme show masked numbers (138****5678) or privacy relay numbers that reveal nothing, and sometimes only
-- a surname with a title; group-buy members are nicknames. Identity is resolved within an address
-- (address_key: admin code | canonical door, built in ingestion/addresses.py, so the same door written the
-- ways people write it matches and a different room, unit, building or house number never does; see
-- docs/decisions.md, "Address matching"), in a fixed ladder of evidence, strongest first:
--   1. a full mobile number identifies the person outright;
--   2. a masked number matches the people at the address whose mobile has the same first three digits and
--      the same tail (four digits, or three for Meituan's 138*****678 form): one match is that person; two or
--      more is ambiguous (no guess, no merge); none is a new person known by that masked number. A relay
--      number whose remark gave the customer's masked real number matches on its first three and last four
--      (phone_first3, phone_last4);
--   3. otherwise (privacy relay, landline, no phone) the surname picks among the people known at the
--      address; with no usable surname, the only person known there is taken; ties are ambiguous.
-- Ambiguous orders get a customer of their own (order:<key>), so they are never merged on a guess.

with orders as (
    select
        order_key,
        address_key,
        phone,
        phone_kind,
        phone_last4,
        phone_first3,
        lat,
        lng,
        -- Titles, masks and brackets are how platforms shorten names; the surname survives them.
        nullif(left(regexp_replace(coalesce(recipient_name, ''), '[(（][^)）]*[)）]|先生|女士|小姐|\*|\s', '', 'g'), 1), '')
            as surname
    from {{ ref('stg_raw__orders') }}
    where address_key is not null
    {% if is_incremental() %}
        and {{ in_batch_keys('address_key', 'addresses') }}
    {% endif %}
),

-- What a number reveals of the customer's own mobile: a mask's first three digits (when the mask starts with
-- them and its tail is its own) and its tail; a relay number only the last four its remark gave.
revealed as (
    select
        *,
        case
            when phone_kind = 'masked' and regexp_matches(phone, '^1[0-9]{2}[*]')
                and (phone_last4 is null or ends_with(phone, phone_last4)) then left(phone, 3)
            -- A remark's masked real number gives its first three as well as its last four (null for orders
            -- loaded before they were kept: those compare on the four alone, as they did).
            when phone_kind in ('masked', 'privacy') then phone_first3
        end as phone_prefix,
        case
            when phone_kind = 'masked' then coalesce(phone_last4, nullif(regexp_extract(phone, '([0-9]{3})$', 1), ''))
            when phone_kind = 'privacy' then phone_last4
        end as phone_tail
    from orders
),

with_tokens as (
    select
        *,
        case when phone_kind = 'mobile' then phone end as full_mobile,
        case
            when phone_kind = 'mobile' then left(phone, 3) || '…' || phone_last4
            when phone_tail is not null then coalesce(phone_prefix, '') || '…' || phone_tail
        end as phone_token,
        phone_kind <> 'mobile' and phone_tail is not null as partial_phone
    from revealed
),

-- People known at an address by a full mobile number, with the surname they most often give.
known_people as (
    select
        address_key,
        full_mobile,
        any_value(phone_token) as phone_token,
        mode(surname) as surname,
        avg(lat) as lat,
        avg(lng) as lng
    from with_tokens
    where full_mobile is not null
    group by address_key, full_mobile
),

-- Step 2: masked numbers against the known people.
masked as (
    select
        o.order_key,
        count(p.full_mobile) as matches,
        min(p.full_mobile) as matched_mobile
    from with_tokens as o
    left join known_people as p
        on p.address_key = o.address_key
        and right(p.full_mobile, length(o.phone_tail)) = o.phone_tail
        and (o.phone_prefix is null or left(p.full_mobile, 3) = o.phone_prefix)
    where o.partial_phone
    group by o.order_key
),

-- Everyone resolved by steps 1 and 2, as the people step 3 can choose from.
people_at_address as (
    select address_key, 'm:' || full_mobile as customer_id, surname from known_people
    union
    select o.address_key, 'k:' || o.address_key || ':' || o.phone_token, any_value(o.surname)
    from with_tokens as o inner join masked as m using (order_key)
    where m.matches = 0
    group by o.address_key, o.phone_token
),

weak as (
    select
        o.order_key,
        count(p.customer_id) filter (where p.surname = o.surname) as surname_matches,
        min(p.customer_id) filter (where p.surname = o.surname) as surname_match,
        count(p.customer_id) as people_here,
        min(p.customer_id) as only_person,
        count(p.customer_id) filter (where p.surname is distinct from o.surname and o.surname is not null and p.surname is not null)
            as conflicting_surnames
    from with_tokens as o
    left join people_at_address as p on p.address_key = o.address_key
    where o.full_mobile is null and not o.partial_phone
    group by o.order_key
),

resolved as (
    select
        o.order_key,
        o.address_key,
        case
            when o.full_mobile is not null then 'm:' || o.full_mobile
            when o.partial_phone and m.matches = 1 then 'm:' || m.matched_mobile
            when o.partial_phone and m.matches = 0 then 'k:' || o.address_key || ':' || o.phone_token
            when o.partial_phone then 'order:' || o.order_key
            when w.surname_matches = 1 then w.surname_match
            when w.surname_matches > 1 then 'order:' || o.order_key
            when w.people_here = 1 and w.conflicting_surnames = 0 then w.only_person
            when w.people_here > 1 then 'order:' || o.order_key
            else 'a:' || o.address_key || ':' || coalesce(o.surname, '?')
        end as customer_id,
        case
            when o.full_mobile is not null then 'full_mobile'
            when o.partial_phone and m.matches = 1 then 'masked_phone_match'
            when o.partial_phone and m.matches = 0 then 'masked_phone_new'
            when o.partial_phone then 'ambiguous_masked_phone'
            when w.surname_matches = 1 then 'surname_at_address'
            when w.surname_matches > 1 then 'ambiguous_surname'
            when w.people_here = 1 and w.conflicting_surnames = 0 then 'only_person_at_address'
            when w.people_here > 1 then 'ambiguous_address'
            else 'address_and_surname'
        end as evidence,
        case
            when o.partial_phone then m.matches
            when w.surname_matches > 0 then w.surname_matches
            else w.people_here
        end as candidate_people,
        o.phone_token,
        o.surname
    from with_tokens as o
    left join masked as m using (order_key)
    left join weak as w using (order_key)
)

select
    order_key,
    address_key,
    customer_id,
    evidence,
    case evidence
        when 'full_mobile' then 1.0
        when 'masked_phone_match' then 0.9
        when 'surname_at_address' then 0.8
        when 'masked_phone_new' then 0.7
        when 'only_person_at_address' then 0.6
        when 'address_and_surname' then 0.5
        else 0.0
    end as confidence,
    evidence like 'ambiguous%' as is_ambiguous,
    case evidence
        when 'full_mobile' then 'full mobile number'
        when 'masked_phone_match' then 'masked number ' || phone_token || ' matches the one customer at this address with it'
        when 'masked_phone_new' then 'masked number ' || phone_token || ' at this address, no full number known'
        when 'ambiguous_masked_phone' then 'masked number ' || phone_token || ' matches ' || candidate_people || ' customers at this address'
        when 'surname_at_address' then 'surname ' || surname || ' matches the one customer at this address with it'
        when 'ambiguous_surname' then 'surname ' || surname || ' matches ' || candidate_people || ' customers at this address'
        when 'only_person_at_address' then 'no phone to compare; the only customer known at this address'
        when 'ambiguous_address' then 'no phone to compare; ' || candidate_people || ' customers known at this address'
        else 'no phone to compare; nobody known at this address; surname ' || coalesce(surname, 'unknown')
    end as evidence_detail
from resolved
