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
  These are the spellings the adapters write (pos: 现金 -> cash; meituan pay_type 1 and eleme offline ->
  cash_on_delivery). The contract does not list the payment_method vocabulary; this belongs in
  config/rules.yml once it does.
-#}
{% macro offline_payment_methods() -%}
    {{ return(['cash', 'cash_on_delivery']) }}
{%- endmacro %}
