"""Ingest: landing files into the raw tables (the micro-batch loader as a Dagster asset) and the sensor that
asks for a run when new files land."""
