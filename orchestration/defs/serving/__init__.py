"""Serving: the snapshot the dashboards read (publish.py writes it), its asset, and the sensor that
publishes it after a failed run."""
