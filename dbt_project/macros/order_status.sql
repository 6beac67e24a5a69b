{#-
  Lifecycle rank of an order status. Breaks ties between events with the same event_time: the later
  lifecycle step wins, and cancelled outranks everything (a cancel at the same instant as a delivery
  means the order ended cancelled). Unknown statuses rank lowest so they never win a tie.
-#}
{% macro status_rank(column) -%}
    case {{ column }}
        when 'created' then 1
        when 'paid' then 2
        when 'picking' then 3
        when 'dispatched' then 4
        when 'delivered' then 5
        when 'cancelled' then 6
        else 0
    end
{%- endmacro %}

{#-
  Payment methods settled at the door or the till, for which a missing online payment is not a problem.
  The contract does not fix a payment_method vocabulary yet, so the spellings adapters are likely to use
  are all listed; move this to config/rules.yml once the vocabulary is fixed.
-#}
{% macro offline_payment_methods() -%}
    {{ return(['cash', 'cash_on_delivery', 'cod']) }}
{%- endmacro %}
