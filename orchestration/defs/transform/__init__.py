"""Transform: the dbt project (staging, intermediate, marts) as assets, and the dbt CLI resource."""
