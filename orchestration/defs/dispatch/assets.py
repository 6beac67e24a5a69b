"""The dispatch plan: the day's trips as of the run's clock, with the riders' states and the parcels still
waiting, after the marts are built, on its own cadence (cadence.py)."""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at runtime.

import dagster as dg

from orchestration import clock, refreshes
from orchestration.defs.dispatch import plan as dispatch_plan
from orchestration.defs.dispatch.cadence import replan_reason
from orchestration.defs.dispatch.write import replan
from orchestration.defs.transform.cadence import wants_full_refresh
from orchestration.resources import OrderhubPaths, Warehouse
from orchestration.rules import load as load_rules


@dg.asset(
    key=["dispatch", "plan"],
    deps=[
        dg.AssetKey(["marts", "fct_parcels"]),
        dg.AssetKey(["marts", "fct_orders"]),
        dg.AssetKey(["raw", "riders"]),
        dg.AssetKey(["raw", "stores"]),
    ],
    group_name="dispatch",
    kinds={"duckdb", "pyvrp"},
    description=(
        "The day's rider trips as of the run's clock (PyVRP), riders' states and waiting parcels, the greedy "
        "baseline, late-risk exceptions and the parcels platforms deliver."
    ),
)
def dispatch_plan_asset(
    context: dg.AssetExecutionContext, paths: OrderhubPaths, warehouse: Warehouse
) -> dg.MaterializeResult:
    rules = dispatch_plan.DispatchRules.from_rules(load_rules(paths.rules))
    as_of = clock.run_as_of(context)
    with warehouse.connect() as con:
        last_plan = refreshes.as_of_by_part(con).get("dispatch")
        forced = wants_full_refresh(context.run.tags)
        why = replan_reason(last_plan, as_of, rules.replan_every, forced=forced)
        if why is None:
            refreshes.confirm(con, "dispatch", context.run_id)
            context.log.info(f"dispatch: the plan as of {last_plan} is kept (re-planned every {rules.replan_every})")
            return dg.MaterializeResult(
                metadata={"as_of": clock.format_as_of(as_of), "replanned": False, "plan_as_of": str(last_plan)}
            )
        context.log.info(f"dispatch: re-planning: {why}")
        inputs, plans, counts = replan(con, rules, as_of, forced=forced)
        refreshes.record(con, "dispatch", context.run_id, as_of)
    pyvrp, greedy = plans.get("pyvrp"), plans.get("greedy")
    metadata = {
        "as_of": clock.format_as_of(as_of),
        "replanned": True,
        "business_date": str(inputs.business_date),
        "parcels": len(inputs.parcels),
        "riders": len(inputs.riders),
        **counts,
    }
    if pyvrp and greedy:
        metadata["km_pyvrp"] = round(sum(r.distance_m for _, r in pyvrp.routes) / 1000, 1)
        metadata["km_greedy"] = round(sum(r.distance_m for _, r in greedy.routes) / 1000, 1)
    context.log.info(f"dispatch: {metadata}")
    return dg.MaterializeResult(metadata=metadata)
