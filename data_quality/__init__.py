"""Data quality: the Great Expectations suites (`suites`, built from `expectations`; the orders' in
`order_suites`) and the runner that validates frames with them
(`runner`, imports GX lazily), where results live (`results`: dq.dq_results / dq.dq_validations and the
snapshot summaries), row accounting per channel (`accounting`) and quarantine listing and replay
(`quarantine`). Imports only `ingestion` (the contract); orchestration wires it into Dagster and the CLI."""
