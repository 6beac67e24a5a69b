"""Channel-performance and customer-behaviour analytics, the same questions on ClickHouse and on DuckDB.

questions.py holds the questions and their definitions, dialects.py what differs between the engines,
engines.py how a store (DuckDB warehouse or ClickHouse database) answers one.
"""

from history.analytics.engines import AnalyticsError, Answer, ClickHouseStore, DuckDBStore
from history.analytics.questions import DIMENSIONS, QUESTIONS, Scope, describe, question_sql

__all__ = [
    "DIMENSIONS",
    "QUESTIONS",
    "AnalyticsError",
    "Answer",
    "ClickHouseStore",
    "DuckDBStore",
    "Scope",
    "describe",
    "question_sql",
]
