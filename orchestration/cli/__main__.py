"""`python -m orchestration.cli …`, as the `orderhub` console script."""

from orchestration.cli import app

app()
