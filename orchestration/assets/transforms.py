"""The dbt project as assets: staging, intermediate and marts, with dbt tests as asset checks."""


import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from orchestration.assets.finance import FINANCE_DBT_SELECT
from orchestration.rules import dbt_vars
from orchestration.settings import Settings


def build_dbt_assets(project: DbtProject, settings: Settings) -> dg.AssetsDefinition:
    # The finance marts are rebuilt per day by their own partitioned assets (orchestration/assets/finance.py).
    @dbt_assets(manifest=project.manifest_path, project=project, name="orderhub_dbt", exclude=FINANCE_DBT_SELECT)
    def orderhub_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        # The rules file is read at run time, so an edited rule applies on the next run without a reload.
        yield from dbt.cli(["build", "--vars", dbt_vars(settings.rules)], context=context).stream()

    return orderhub_dbt
