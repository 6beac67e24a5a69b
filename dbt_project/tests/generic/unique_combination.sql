{#-
  Fails with one row per duplicated combination of `columns` (a composite key).
  Stands in for dbt_utils.unique_combination_of_columns (no packages here).
-#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
