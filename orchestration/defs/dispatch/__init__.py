"""Dispatch: the dispatch plan asset, and the dispatch tables it reads and writes (plan.py)."""
