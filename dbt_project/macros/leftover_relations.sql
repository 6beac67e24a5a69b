{#-
  dbt-duckdb 1.11 builds an incremental Python model's new rows in a "temporary" relation that the Python
  runner creates as an ordinary table (main.<model>__dbt_tmp<timestamp>) and never drops: the materialization
  drops only relations it knows are not temporary. One table per incremental run is thousands a day at
  micro-batch cadence, every one kept in the file and the catalogue. What is left over once an invocation
  ends is dropped here; no other invocation can be writing at that moment, as DuckDB lets one process open the
  file for writing.
-#}
{% macro drop_leftover_relations() -%}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select schema_name, table_name from duckdb_tables()"
            ~ " where database_name = current_database() and not temporary"
            ~ " and (contains(table_name, '__dbt_tmp') or contains(table_name, '__dbt_backup'))"
        ) -%}
        {%- for row in leftovers.rows -%}
            {%- do run_query("drop table if exists " ~ adapter.quote(row[0]) ~ "." ~ adapter.quote(row[1])) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
