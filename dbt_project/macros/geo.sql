{# Great-circle distance in metres between two GCJ-02 points (haversine); null when either point is null.
   The same formula as ingestion.addresses.distance_m, which the address-pair test measures. The clamp is
   a CASE, not least(): DuckDB's least() skips nulls, which would turn a missing point into 20,000 km. #}
{% macro distance_m(lat1, lng1, lat2, lng2) -%}
    {%- set h -%}
        (power(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
         + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }})) * power(sin(radians({{ lng2 }} - {{ lng1 }}) / 2), 2))
    {%- endset -%}
    (2 * 6371000 * asin(sqrt(case when {{ h }} > 1 then 1 else {{ h }} end)))
{%- endmacro %}
