"""Long-running services beside Dagster (Redis, the channel gateway and its workers): how to start and stop them."""
