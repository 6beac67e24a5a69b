"""orderhub orchestration: Dagster wiring and the `orderhub` CLI. See orchestration/README.md for what each
folder holds and what it may import."""
