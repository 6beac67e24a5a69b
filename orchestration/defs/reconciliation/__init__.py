"""Reconciliation: the daily-partitioned finance marts, their job and the nightly (T+1) schedule."""
