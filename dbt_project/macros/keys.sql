{#-
  A deterministic surrogate key: md5 over the parts joined with '|', NULL spelled out so that
  (NULL, 'a') and ('', 'a') differ. Stands in for dbt_utils.generate_surrogate_key (no packages here).
-#}
{% macro hash_key(parts) -%}
    md5(concat_ws('|'
    {%- for part in parts %}, coalesce(cast({{ part }} as varchar), '<null>')
    {%- endfor %}))
{%- endmacro %}

{#- Renders a list of strings (e.g. a list var from rules.yml) as a SQL IN-list: ('a', 'b'). -#}
{% macro sql_string_list(values) -%}
    {%- if values is none -%}
        {#- A list var missing from --vars: say so instead of failing on "NoneType is not iterable". -#}
        {{ exceptions.raise_compiler_error(
            "sql_string_list got no values: a list var is missing. Run dbt with --vars built from "
            ~ "config/rules.yml (see dbt_project/README.md).") }}
    {%- elif values is string -%}
        {%- set values = [values] -%}
    {%- endif -%}
    ({%- for v in values -%}'{{ v | replace("'", "''") }}'{{ ", " if not loop.last }}{%- endfor -%})
{%- endmacro %}
