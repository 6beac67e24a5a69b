"""The Great Expectations suites: every suite passes on a clean simulated batch, and each rule family
(required fields, value sets, non-negative and consistent amounts, coordinates in China, phones, timestamps
within the batch's day, settlement signs and identities, stock conservation, reconciliation statuses) fails
on a frame where exactly that rule was broken, with the right severity. Results store as dq rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data_quality import results
from data_quality.results import read_frame
from ingestion import warehouse
from ingestion.loader import run_batch

ORDERS_SQL = """
    SELECT o.*, l.lines_goods_total FROM raw.orders o
    LEFT JOIN (SELECT order_key, sum(original_price * quantity) lines_goods_total FROM raw.order_lines GROUP BY 1) l
    USING (order_key)
"""


@pytest.fixture(scope="module")
def validator():
    from data_quality.runner import validator as build

    return build()


@pytest.fixture(scope="module")
def loaded(simulated_day, tmp_path_factory):
    landing, _ = simulated_day
    con = warehouse.connect(tmp_path_factory.mktemp("dq") / "wh.duckdb")
    run_batch(con, landing)
    yield con
    con.close()


@pytest.fixture(scope="module")
def orders(loaded) -> pl.DataFrame:
    return read_frame(loaded, ORDERS_SQL + " WHERE o.channel = 'meituan'")


def failed(validation) -> dict[str, str]:
    """rule → severity of each failed expectation."""
    return {o.rule: o.severity for o in validation.failed}


def test_every_suite_passes_on_a_clean_simulated_day(validator, loaded):
    """Each channel's orders and lines, the settlement lines: the loaded simulated day meets every expectation
    (so a failure in production is a real defect, not a suite that cries wolf). The one exception is the warning
    the simulated platforms earn honestly: their minimum commission leaves some small orders paying us less than
    nothing."""
    honest_warnings = {"a payment usually pays us (net ≥ 0)"}
    frames = {
        "orders": read_frame(loaded, ORDERS_SQL),
        "order_lines": read_frame(
            loaded, "SELECT l.*, o.channel FROM raw.order_lines l JOIN raw.orders o USING (order_key)"
        ),
        "settlement_lines": read_frame(loaded, "SELECT * FROM raw.settlement_lines"),
    }
    assert frames["settlement_lines"].height > 0
    for suite, frame in frames.items():
        for (channel,), part in frame.group_by("channel"):
            validation = validator.validate(suite, part, scope="batch", batch="b1", channel=channel)
            assert validation.rows == part.height > 0
            assert set(failed(validation)) <= honest_warnings, validation.describe()
            assert all(severity == "warning" for severity in failed(validation).values()), validation.describe()


@pytest.mark.parametrize(
    ("mutation", "rule", "severity"),
    [
        # Per-order money rules are findings on the order (warning); that every order breaks them is a broken
        # channel, which is critical (test_one_bad_order_is_a_finding_a_broken_channel_is_critical).
        (lambda f: f.with_columns(paid_amount=pl.col("paid_amount") + 1), "paid = goods − merchant", "warning"),
        (lambda f: f.with_columns(goods_amount=pl.col("goods_amount") * 2), "goods = Σ lines", "warning"),
        (lambda f: f.with_columns(delivery_fee=-pl.col("delivery_fee") - 1), "delivery_fee is not negative", "warning"),
        (lambda f: f.with_columns(status=pl.lit("shipped")), "status is one of", "critical"),
        (lambda f: f.with_columns(channel=pl.lit("taobao")), "channel is one of", "critical"),
        (lambda f: f.with_columns(store_id=pl.lit(None, pl.String)), "store_id is present", "critical"),
        (lambda f: f.with_columns(order_key=pl.lit("meituan:1")), "an order is loaded once per batch", "critical"),
        (lambda f: f.with_columns(lat=pl.lit(48.85), lng=pl.lit(2.35)), "longitude is inside China", "warning"),
        (lambda f: f.with_columns(lat=pl.lit(None, pl.Float64)), "latitude and longitude come together", "warning"),
        (lambda f: f.with_columns(phone=pl.lit("phone-unknown")), "phone is a mobile", "warning"),
        (
            lambda f: f.with_columns(created_at=pl.col("created_at") + dt.timedelta(days=2)),
            "created_at falls on the landing folder's business day",
            "warning",
        ),
        (
            lambda f: f.with_columns(paid_at=pl.col("created_at") - dt.timedelta(hours=1)),
            "paid_at is not before created_at",
            "warning",
        ),
    ],
)
def test_a_broken_rule_fails_its_expectation_with_its_severity(validator, orders, mutation, rule, severity):
    """One defect in a clean batch fails the expectation that names it (critical for keys and codes, warning for
    what one order can get wrong)."""
    assert validator.validate("orders", orders, scope="batch", batch="b", channel="meituan").success
    broken = validator.validate("orders", mutation(orders), scope="batch", batch="b", channel="meituan")
    matching = {r: s for r, s in failed(broken).items() if r.startswith(rule)}
    assert matching, f"no failure for {rule!r}; failures: {failed(broken)}"
    assert set(matching.values()) == {severity}


def test_one_bad_order_is_a_finding_a_broken_channel_is_critical(validator, orders):
    """One order whose paid amount is off and one whose goods disagree with its lines: no critical failure,
    and each is a finding with its key, the rule and the values. The same defect on every order of the
    channel is a broken channel: critical, naming the orders."""
    keys = orders["order_key"].sort().to_list()
    one, two = keys[0], keys[1]
    bad = orders.with_columns(
        paid_amount=pl.when(pl.col("order_key") == one)
        .then(pl.col("paid_amount") + 2)
        .otherwise(pl.col("paid_amount")),
        goods_amount=pl.when(pl.col("order_key") == two)
        .then(pl.col("goods_amount") + 5)
        .otherwise(pl.col("goods_amount")),
    )
    validation = validator.validate("orders", bad, scope="batch", batch="b", channel="meituan")
    assert not validation.critical_failed, validation.describe()
    assert validation.flagged_orders == [one, two]
    found = {(r["order_key"], r["rule_id"]): r["detail"] for r in validation.findings.iter_rows(named=True)}
    assert ("gap 2.00" in found[(one, "amount_identity")]) and found[(one, "amount_identity")].startswith("paid ")
    assert "gap 5.00" in found[(two, "lines_sum_to_goods")]
    # Raising goods by 5 also breaks the amount identity of that order (paid no longer matches): both named.
    assert (two, "amount_identity") in found
    assert one in validation.describe_findings() and "gap 2.00" in validation.describe_findings()

    everyone = validator.validate(
        "orders",
        orders.with_columns(paid_amount=pl.col("paid_amount") + 1),
        scope="batch",
        batch="b",
        channel="meituan",
    )
    [critical] = everyone.critical_failed
    assert critical.rule.startswith("a channel's batch is not broken") and critical.unexpected_count == orders.height
    # GX samples the unexpected values from the first rows it reads; which orders those are is not fixed.
    assert any(key in everyone.describe() for key in keys), everyone.describe()


def test_masked_and_privacy_phones_are_well_formed(validator, orders):
    """Masked (138****5678) and privacy relay numbers (13812345678_1234) are explicitly allowed, not errors."""
    phones = pl.Series(["138****5678", "13812345678_1234", "021-64381234"] * (orders.height // 3 + 1))[: orders.height]
    kinds = pl.Series(["masked", "privacy", "landline"] * (orders.height // 3 + 1))[: orders.height]
    frame = orders.with_columns(phone=phones, phone_kind=kinds, phone_last4=pl.lit("5678"))
    assert validator.validate("orders", frame, scope="batch", batch="b").success


def test_settlement_rules(validator, loaded):
    """Statement lines: a refund paying out, a bill line whose net ≠ gross − fee and an unknown line type each
    fail a critical expectation; a payment with a negative net (a platform's minimum commission on a small
    order) is a warning."""
    lines = read_frame(loaded, "SELECT * FROM raw.settlement_lines WHERE channel = 'wechatpay'")
    assert validator.validate("settlement_lines", lines, scope="batch", batch="b").success
    payment, refund = pl.col("line_type") == "payment", pl.col("line_type") == "refund"
    cases = {
        "a refund takes money back": lines.with_columns(
            net_amount=pl.when(refund).then(pl.col("net_amount").abs()).otherwise(pl.col("net_amount"))
        ),
        "net = gross − fee − refund": lines.with_columns(fee_amount=pl.col("fee_amount") + 0.5),
        "line_type is one of": lines.with_columns(line_type=pl.lit("bonus")),
    }
    for rule, frame in cases.items():
        broken = failed(validator.validate("settlement_lines", frame, scope="batch", batch="b"))
        assert any(r.startswith(rule) and s == "critical" for r, s in broken.items()), (rule, broken)
    negative_payment = lines.with_columns(
        net_amount=pl.when(payment).then(-pl.col("net_amount")).otherwise(pl.col("net_amount")),
        fee_amount=pl.when(payment).then(pl.col("gross_amount") + pl.col("net_amount")).otherwise(pl.col("fee_amount")),
    )
    broken = failed(validator.validate("settlement_lines", negative_payment, scope="batch", batch="b"))
    assert broken == {"a payment usually pays us (net ≥ 0)": "warning"}, broken


def test_mart_suites_catch_broken_conservation_and_status():
    """Stock positions that break the ledger identity and reconciliation lines whose status contradicts their
    category fail; the same frames with the identities intact pass."""
    from data_quality.runner import validator as build

    validator = build()
    positions = pl.DataFrame(
        {
            "store_id": ["S1", "S1"],
            "sku_id": ["A", "B"],
            "on_hand": [10, 5],
            "reserved_units": [4, 2],
            "released_units": [1, 0],
            "open_units": [1, 1],
            "fulfilled_units": [2, 1],
            "oversold_units": [0, 0],
            "available_units": [7, 3],
        }
    )
    assert validator.validate("stock_positions", positions, scope="table", batch="b").success
    tampered = validator.validate(
        "stock_positions", positions.with_columns(available_units=pl.lit(9)), scope="table", batch="b"
    )
    assert "available = on hand + moved in − moved out − reserved + released" in failed(tampered)
    # Goods received since the count are stock: with them the identity holds, without them it does not.
    received = positions.with_columns(
        moved_in_units=pl.Series([3, 0]), moved_out_units=pl.Series([0, 1]), available_units=pl.Series([10, 2])
    )
    assert validator.validate("stock_positions", received, scope="table", batch="b").success
    assert not validator.validate(
        "stock_positions", received.drop("moved_in_units", "moved_out_units"), scope="table", batch="b"
    ).success

    recon = pl.DataFrame(
        {
            "recon_line_id": ["a", "b", "c"],
            "recon_date": [dt.date(2026, 11, 26)] * 3,
            "settlement_channel": ["wechatpay"] * 3,
            "item_type": ["statement_line"] * 3,
            "category": ["matched", "timing_difference", "amount_mismatch"],
            "recon_status": ["matched", "cleared", "variance"],
            "variance_amount": [0.0, 12.5, -3.0],
            "source_file": ["f"] * 3,
            "explanation": ["ok"] * 3,
        }
    )
    assert validator.validate("reconciliation_lines", recon, scope="day", batch="2026-11-26").success
    wrong = recon.with_columns(recon_status=pl.lit("matched"), variance_amount=pl.lit(1.0))
    broken = failed(validator.validate("reconciliation_lines", wrong, scope="day", batch="2026-11-26"))
    assert broken.get("recon_status follows the category (matched, cleared, open, else variance)") == "critical"
    assert broken.get("nothing is at stake on a matched or awaiting item") == "critical"


def test_results_are_stored_and_batches_leave_the_pending_list(validator, loaded, tmp_path):
    """dq_results holds one row per expectation (suite, expectation, batch, success, observed value), and a
    validated batch is no longer pending; a failure is stored as a failure with what was observed."""
    con = warehouse.connect(tmp_path / "wh.duckdb")
    batch = "20261126T000000-abcdef01"
    con.execute(
        "INSERT INTO raw.ingest_batches (batch_id, channel, files, landed, loaded, quarantined, duplicate) "
        "VALUES (?, 'app', 1, 1, 1, 0, 0)",
        [batch],
    )
    assert results.pending_batches(con, "orders") == [batch]
    frame = read_frame(loaded, ORDERS_SQL + " WHERE o.channel = 'app'").with_columns(paid_amount=pl.lit(-1.0))
    validation = validator.validate("orders", frame, scope="batch", batch=batch, channel="app")
    written = results.write(con, [validation], run_id="r1")
    assert written == len(validation.outcomes) > 30
    assert results.pending_batches(con, "orders") == []
    row = con.execute(
        "SELECT success, severity, observed_value, unexpected_count FROM dq.dq_results "
        "WHERE rule = 'paid_amount is not negative' AND batch = ?",
        [batch],
    ).fetchone()
    assert row[0] is False and row[1] == "warning" and row[3] == frame.height and "unexpected" in row[2]
    findings = con.execute(
        "SELECT count(DISTINCT order_key), min(detail) FROM dq.dq_order_findings "
        "WHERE rule_id = 'paid_amount_not_negative' AND batch = ?",
        [batch],
    ).fetchone()
    assert findings == (frame.height, "paid_amount -1.00")
    database = con.execute("SELECT current_database()").fetchone()[0]
    summary = con.execute(results.serving_queries(database)["dq_results_summary"]).fetchall()
    assert len(summary) == len(validation.outcomes)


def _verdicts(validation) -> dict[tuple[str, str], tuple]:
    """What a validation says of each expectation: met or not, and for a failure its counts and sample."""
    return {
        (o.expectation, o.rule): (o.success,)
        if o.success
        else (o.success, o.severity, o.unexpected_count, o.element_count, o.unexpected_sample)
        for o in validation.outcomes
    }


@pytest.mark.parametrize("suite", ["orders", "order_lines", "settlement_lines"])
def test_validating_a_batch_once_says_what_each_channel_validated_alone_says(validator, loaded, suite):
    """`validate_by` validates the whole batch once and only the failures channel by channel: each channel's
    verdicts (met / failed with the same counts and sample values) and flagged orders equal those of
    validating that channel alone, with rules broken in some channels and not others."""
    sql = {
        "orders": ORDERS_SQL,
        "order_lines": "SELECT l.*, o.channel FROM raw.order_lines l JOIN raw.orders o USING (order_key)",
        "settlement_lines": "SELECT * FROM raw.settlement_lines",
    }[suite]
    frame = read_frame(loaded, sql)
    row = pl.int_range(pl.len())
    broken = {
        "orders": {
            "meituan": dict(
                paid_amount=pl.when(row % 7 == 0).then(pl.col("paid_amount") + 3).otherwise(pl.col("paid_amount"))
            ),
            "app": dict(status=pl.when(row == 0).then(pl.lit("teleported")).otherwise(pl.col("status"))),
        },
        "order_lines": {"eleme": dict(quantity=pl.when(row % 5 == 0).then(0).otherwise(pl.col("quantity")))},
        "settlement_lines": {
            "wechatpay": dict(raw_hash=pl.when(row == 1).then(pl.lit("nothex")).otherwise(pl.col("raw_hash")))
        },
    }[suite]
    parts = []
    for (channel,), part in frame.group_by("channel"):
        parts.append(part.with_columns(**broken[channel]) if channel in broken else part)
    frame = pl.concat(parts)
    together = validator.validate_by(suite, frame, scope="batch", batch="b")
    alone = [
        validator.validate(suite, part, scope="batch", batch="b", channel=channel)
        for (channel,), part in sorted(frame.group_by("channel"), key=lambda item: item[0][0])
    ]
    assert [v.channel for v in together] == [v.channel for v in alone]
    assert any(not v.success for v in alone) and any(v.success for v in alone)
    for one, other in zip(together, alone, strict=True):
        assert one.rows == other.rows
        assert _verdicts(one) == _verdicts(other), one.channel
        assert one.flagged_orders == other.flagged_orders, one.channel
