{#-
  Layers land in schemas named exactly as configured (staging, intermediate, marts), not dbt's default
  "<target schema>_<custom>" (main_marts). Downstream readers (the serving snapshot, ClickHouse export)
  can then find every mart in the schema `marts` whatever the target is called.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
