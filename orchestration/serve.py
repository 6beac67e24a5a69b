"""Kept only for orchestration/recon_cli.py, which still imports `prepare_dagster_home` from here: the
function lives in orchestration/instance.py and the supervisor in orchestration/cli/serve.py. Delete this
module when recon_cli.py moves into orchestration/cli/."""

from orchestration.instance import prepare_dagster_home

__all__ = ["prepare_dagster_home"]
