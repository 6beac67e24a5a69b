{# Great-circle distance in metres between two GCJ-02 points (haversine); null when either point is null.
   The same formula as ingestion.addresses.distance_m, which the address-pair test measures. #}
{% macro distance_m(lat1, lng1, lat2, lng2) -%}
    (2 * 6371000 * asin(least(1.0, sqrt(
        power(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }})) * power(sin(radians({{ lng2 }} - {{ lng1 }}) / 2), 2)
    ))))
{%- endmacro %}
