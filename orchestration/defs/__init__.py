"""Dagster definitions by domain: one folder per domain with its assets, checks, schedules and sensors
(orchestration/README.md). orchestration/definitions.py assembles them."""
