"""Ingestion: landing files in each channel's native format → the raw tables of one order model.

- `contract`: the data contract (raw tables as polars schemas, the DDL derived from them, channel names, the
  local time zone): the one statement of the vocabulary every other package is held to.
- `landing`: finding new landing files; `records`: reading them into raw records (JSON lines, CSV, encodings).
- `adapters/`: one adapter per sales channel (field mapping as config plus small extractors) over one
  vectorised normaliser (`adapters.base`); `addresses` and `phones`: the address key and phone forms they use.
- `settlements/`: the statement parsers (WeChat Pay, Alipay, the platforms' bills, tills, group-buy).
- `reference`: stores, products, riders, promotions, stock snapshots and movements.
- `loader`: one micro-batch in one DuckDB transaction with its checkpoint; `order_versions`: duplicates and
  which version of an order applies;
  `till_journal`: till tickets that continue across exports; `warehouse`: connecting, the DDL, inserts;
  `faults`: the named crash points the fault tests kill at.

Imports nothing else of orderhub (tests/test_architecture.py); orchestration wires it into Dagster.
"""
