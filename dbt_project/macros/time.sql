{#-
  Raw timestamps are naive UTC by contract; the business runs on local wall time (var local_timezone,
  Asia/Shanghai). Every local hour, minute and business day in the project goes through this one macro.
  `ts AT TIME ZONE 'UTC'` reads the naive value as a UTC instant (TIMESTAMPTZ); `AT TIME ZONE <tz>`
  turns that instant back into a naive wall-clock TIMESTAMP in the business zone.
-#}
{% macro to_local_ts(column) -%}
    ((({{ column }}) at time zone 'UTC') at time zone '{{ var("local_timezone") }}')
{%- endmacro %}

{#- The business day an instant belongs to: the local calendar date. -#}
{% macro business_date(column) -%}
    cast({{ to_local_ts(column) }} as date)
{%- endmacro %}
