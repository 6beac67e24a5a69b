"""Kept only for orchestration/recon_cli.py, which still imports `orchestration.assets.finance`: the module is
orchestration/defs/reconciliation/assets.py now. Delete this package when recon_cli.py moves into
orchestration/cli/ and imports the new path."""

import sys

from orchestration.defs.reconciliation import assets as _reconciliation_assets

sys.modules[f"{__name__}.finance"] = _reconciliation_assets
