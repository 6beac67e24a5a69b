"""WeChat Pay merchant trade bill (交易账单), as downloaded: UTF-8 CSV (GBK if saved from the merchant portal; v3
may be gzip), a header row, data rows in which every cell starts with a backtick, then a summary header and one
backtick summary row.

The columns differ by bill type — SUCCESS 20, ALL 27, REFUND 29 (adds 退款申请时间/退款成功时间), the legacy
ALL layout 24 (总金额 instead of 应结订单金额, a 5-column summary) — and so do the summaries (SUCCESS: 4 columns,
no 退款总金额), so cells are read by header name. A SUCCESS row is a payment (商户订单号 = our order number), a
REFUND or REVOKED row a refund; net = 应结订单金额 − 退款金额 − 手续费 (a refund row carries the fee given back as a
negative 手续费). Sources: docs/channel-semantics.md.

A row belongs to the bill of the Beijing day of its payment, or of its refund's acceptance (交易时间; on the REFUND
bill 退款申请时间); one of another day than its folder is rejected as `wrong_statement_date`, as on the other
statements, and so is the summary of a bill holding such rows. A payment is known by its 微信订单号 and a refund by
its 微信退款单号 in every layout, so the same transaction on the ALL and the REFUND (or SUCCESS) bill of one day is
one line to the loader.

A summary that disagrees with the rows does not reject the file: the rows load (each is a real transaction
WeChat reports) and the summary record itself is quarantined as `summary_mismatch` with the stated and the
counted values, so finance sees the bill is incomplete or edited. A file without a summary row was cut
short and is rejected whole; a file of the summary alone is a day with nothing paid.
"""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal

from ingestion.records import FileError, RawRecord, RecordError
from ingestion.settlements.base import ParsedLine, StatementLine, exact, local_time, required, same_day, yuan
from ingestion.settlements.text import Row, decode, rows

# Any one of the names, first found wins: the legacy layout says 总金额 where the v3 layouts say 应结订单金额.
REQUIRED = {
    "time": ("交易时间",),
    "txn": ("微信订单号",),
    "order": ("商户订单号",),
    "status": ("交易状态",),
    "settle": ("应结订单金额", "总金额"),
    "fee": ("手续费",),
}
OPTIONAL = {
    "refund": ("退款金额",),
    "refund_id": ("微信退款单号",),
    "mch": ("商户号",),
    "refunded_at": ("退款成功时间",),
    "requested_at": ("退款申请时间",),
}
SUMMARY = {"count": ("总交易单数",), "settle": ("应结订单总金额", "总交易额"), "fee": ("手续费总金额",)}
# WeChat's format page gives the SUCCESS bill a 4-column summary without 退款总金额 (WxJava's fixture has all 7):
# absent, it is zero, so a refund row in such a bill still shows up as a mismatch.
SUMMARY_OPTIONAL = {"refund": ("退款总金额", "总退款金额")}
# REVOKED (已撤销, a reversed 付款码 payment) is money going back like a refund; WeChat lists it among the bill's
# statuses but no sample row was found, so one without a 退款金额 is rejected rather than guessed.
STATUSES = ("SUCCESS", "REFUND", "REVOKED")
FUND_FLOW_MARK = "记账时间"
# The API serves UTF-8; a bill saved from the merchant portal through a Chinese Excel is GBK.
ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
_GZIP_MAGIC = b"\x1f\x8b"


def cell(text: str) -> str:
    """`` `4200000925… `` → ``4200000925…``: WeChat prefixes every value with a backtick so that spreadsheets
    keep long ids as text."""
    text = text.strip()
    return text[1:].strip() if text.startswith("`") else text


def header_cell(text: str) -> str:
    """A header cell without a BOM, or the `?` a BOM becomes when the bill passed through a non-UTF-8 tool."""
    return text.strip().lstrip("\ufeff").lstrip("?").strip()


def _columns(row: Row, wanted: dict[str, tuple[str, ...]]) -> dict[str, int]:
    names = [header_cell(c) for c in row.cells]
    found: dict[str, int] = {}
    for key, options in wanted.items():
        index = next((names.index(o) for o in options if o in names), None)
        if index is not None:
            found[key] = index
    return found


def _value(row: Row, columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return cell(row.cells[index]) if index is not None and index < len(row.cells) else ""


def _time(text: str, what: str) -> dt.datetime:
    # WeChat's own documentation example writes times with full-width colons (16：33：45).
    return local_time(text.replace("：", ":"), what)


def _on_day(text: str, what: str, statement_date: dt.date) -> None:
    _time(text, what)  # an unreadable time is reported as such, not as a wrong day
    same_day(text.strip()[:10], what, statement_date)  # the bill's times are Beijing wall-clock, as its day is


def _identity(status: str, txn: str, refund_id: str) -> str | None:
    """What one payment or refund is known by in every bill type (ALL, SUCCESS, REFUND; legacy or not), so the
    same transaction landed in two of them the same day is one line. A second partial refund of a payment has its
    own 微信退款单号, so it stays a line of its own; a REFUND row without one falls back to its text."""
    if status == "SUCCESS":
        return f"payment|{txn}"
    if refund_id and refund_id != "0":
        return f"refund|{txn}|{refund_id}"
    if status == "REVOKED":
        # 撤销 reverses the whole payment and keeps its 微信订单号 [WF]: a payment is revoked once at most.
        return f"refund|{txn}|REVOKED"
    return None


def _line(
    row: Row, cols: dict[str, int], width: int, statement_date: dt.date
) -> tuple[StatementLine, tuple[Decimal, Decimal, Decimal], str | None]:
    if len(row.cells) != width:
        raise RecordError("malformed_row", f"the line has {len(row.cells)} cells, the bill has {width} columns")
    status = _value(row, cols, "status")
    if status not in STATUSES:
        raise RecordError("bad_value", f"交易状态 '{status}' is not one of {', '.join(STATUSES)}")
    is_refund = status != "SUCCESS"
    # WeChat puts a row in the bill of the day of its payment, or for a refund of the day the refund was accepted
    # (退款受理成功时间), not the day the money arrived [WB]. 交易时间 holds that time on a refund row ("发起退款成功
    # 时间(注:不是退款成功时间)" [WF]); the REFUND bill also writes it as 退款申请时间, read first there in case its
    # 交易时间 is the payment's. 退款成功时间 can fall on a later day, so it decides nothing here.
    requested = _value(row, cols, "requested_at") if is_refund else ""
    if requested:
        _on_day(requested, "退款申请时间", statement_date)
    else:
        _on_day(_value(row, cols, "time"), "交易时间", statement_date)
    settle = exact(_value(row, cols, "settle"), "应结订单金额")
    refund = exact(_value(row, cols, "refund") or "0", "退款金额")
    fee = exact(_value(row, cols, "fee"), "手续费")
    if status == "REVOKED" and not refund:
        raise RecordError("bad_value", "交易状态 REVOKED with no 退款金额: the amount reversed is not in the row")
    refunded_at = _value(row, cols, "refunded_at")
    txn = required(_value(row, cols, "txn"), "微信订单号")
    refund_id = _value(row, cols, "refund_id")
    line = StatementLine(
        line_type="refund" if is_refund else "payment",
        channel_order_id=required(_value(row, cols, "order"), "商户订单号"),
        transaction_id=txn,
        refund_id=(refund_id or None) if is_refund else None,
        account_id=_value(row, cols, "mch") or None,
        gross_amount=yuan(str(settle), "应结订单金额"),
        fee_amount=yuan(str(fee), "手续费"),
        refund_amount=yuan(str(refund), "退款金额"),
        net_amount=yuan(str(settle - refund - fee), "net"),
        settled_at=_time(refunded_at if is_refund and refunded_at else _value(row, cols, "time"), "交易时间"),
    )
    return line, (settle, refund, fee), _identity(status, txn, refund_id)


def _summary(head: Row, row: Row, source_file: str) -> tuple[int, tuple[Decimal, Decimal, Decimal]]:
    """(总交易单数, (应结订单总金额, 退款总金额, 手续费总金额)) of the summary row under its header."""
    scols = _columns(head, SUMMARY | SUMMARY_OPTIONAL)
    try:
        if not all(k in scols for k in SUMMARY):
            raise RecordError(
                "bad_summary", f"summary header lacks {[o[0] for k, o in SUMMARY.items() if k not in scols]}"
            )
        count = int(required(_value(row, scols, "count"), "总交易单数"))
        stated = tuple(
            exact(_value(row, scols, k), (SUMMARY | SUMMARY_OPTIONAL)[k][0]) if k in scols else Decimal(0)
            for k in ("settle", "refund", "fee")
        )
    except (RecordError, ValueError) as err:
        raise FileError("bad_summary", f"{source_file} line {row.line_no}: unreadable summary row ({err})") from None
    return count, (stated[0], stated[1], stated[2])


def _summary_of(cols: dict[str, int]) -> str | None:
    """Which lines the bill's summary totals, by its layout: the REFUND bill (退款申请时间, 退款成功时间) its
    refunds, the SUCCESS bill (no refund columns) its payments, the ALL bill (None) both. The same transaction on
    two bills of a day is one line, so the day's stated total must not add the ALL bill's to the REFUND bill's."""
    if "requested_at" in cols or "refunded_at" in cols:
        return "refund"
    if "refund" not in cols and "refund_id" not in cols:
        return "payment"
    return None


def _summary_line(
    record: RawRecord,
    count: int,
    stated: tuple[Decimal, Decimal, Decimal],
    mismatches: list[str],
    summary_of: str | None = None,
) -> ParsedLine:
    if mismatches:
        return ParsedLine(
            record,
            None,
            RecordError(
                "summary_mismatch",
                "the bill's summary disagrees with its rows (" + "; ".join(mismatches) + "): the rows were loaded, "
                "the bill is incomplete or edited; fetch it from WeChat Pay again",
            ),
        )
    settle_total, refund_total, fee_total = stated
    return ParsedLine(
        record,
        StatementLine(
            line_type="summary",
            txn_count=count,
            gross_amount=yuan(str(settle_total), "应结订单总金额"),
            refund_amount=yuan(str(refund_total), "退款总金额"),
            fee_amount=yuan(str(fee_total), "手续费总金额"),
            net_amount=yuan(str(settle_total - refund_total - fee_total), "net"),
            summary_of=summary_of,
        ),
    )


def _summary_only(data: bytes, source_file: str) -> list[ParsedLine] | None:
    """A bill of a day with nothing paid is written with only its summary (docs/landing-formats.md): no detail
    header, so no 商户订单号 to recognise it by. None when the file is not such a bill either."""
    try:
        found = list(rows(decode(data, source_file, ENCODINGS, "总交易单数")))
    except FileError:
        return None
    if not found or header_cell(found[0].cells[0]) != "总交易单数":
        return None
    if len(found) != 2:
        raise FileError(
            "truncated_statement" if len(found) < 2 else "bad_header",
            f"{source_file}: a bill without a detail header should hold only the summary header and its row, "
            f"it has {len(found)} lines",
        )
    count, stated = _summary(found[0], found[1], source_file)
    record = found[1].record(source_file)
    stated_any = [f"总交易单数 {count}"] if count else []
    stated_any += [
        f"{name} {s}" for name, s in zip(("应结订单总金额", "退款总金额", "手续费总金额"), stated, strict=True) if s
    ]
    if stated_any:
        return [
            ParsedLine(
                record,
                None,
                RecordError(
                    "summary_mismatch",
                    f"the bill holds only its summary, which states {', '.join(stated_any)}, and no detail rows: "
                    "the rows are missing; fetch it from WeChat Pay again",
                ),
            )
        ]
    return [_summary_line(record, count, stated, [])]


def _decompress(data: bytes, source_file: str) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as err:
        raise FileError("bad_encoding", f"{source_file}: a gzip bill that does not decompress ({err})") from None


def parse(data: bytes, source_file: str, statement_date: dt.date) -> list[ParsedLine]:
    data = _decompress(data, source_file)
    if FUND_FLOW_MARK.encode() in data.split(b"\n", 1)[0]:
        raise FileError(
            "not_a_trade_bill",
            f"{source_file}: this is a WeChat Pay fund-flow bill (资金账单, 记账时间…), not a trade bill (交易账单); "
            "land the trade bill (bill_type ALL, SUCCESS or REFUND) under settlements/wechatpay",
        )
    try:
        found = list(rows(decode(data, source_file, ENCODINGS, "商户订单号")))
    except FileError:
        empty_day = _summary_only(data, source_file)
        if empty_day is None:
            raise
        return empty_day
    header = found[0] if found else None
    cols = _columns(header, REQUIRED | OPTIONAL) if header else {}
    missing = [options[0] for key, options in REQUIRED.items() if key not in cols]
    if header is None or missing:
        raise FileError(
            "bad_header",
            f"{source_file} line {header.line_no if header else 0}: not a WeChat Pay trade bill header "
            f"(missing {missing})",
        )
    summary_at = next((i for i, row in enumerate(found) if i and header_cell(row.cells[0]) == "总交易单数"), None)
    if summary_at is None or summary_at + 1 >= len(found):
        raise FileError(
            "truncated_statement",
            f"{source_file}: no summary row (总交易单数…) after the data rows: the download was cut short; fetch the bill again",
        )
    details, summary_head, summary_row = found[1:summary_at], found[summary_at], found[summary_at + 1]

    parsed: list[ParsedLine] = []
    sums = [Decimal(0), Decimal(0), Decimal(0)]
    all_good = True
    other_day = 0
    for row in details:
        try:
            line, amounts, identity = _line(row, cols, len(header.cells), statement_date)
        except RecordError as err:
            parsed.append(ParsedLine(row.record(source_file), None, err))
            all_good = False
            other_day += err.code == "wrong_statement_date"
            continue
        parsed.append(ParsedLine(row.record(source_file), line, identity=identity))
        sums = [a + b for a, b in zip(sums, amounts, strict=True)]

    count, stated = _summary(summary_head, summary_row, source_file)
    if other_day:
        # WeChat cuts its bills at midnight, so a bill holding another day's rows is that day's bill (or an edited
        # one), and its totals are not this day's either.
        parsed.append(
            ParsedLine(
                summary_row.record(source_file),
                None,
                RecordError(
                    "wrong_statement_date",
                    f"{other_day} of the bill's {len(details)} rows are of another day than the statement's day "
                    f"{statement_date} (its landing folder), so its summary ({count} trades) is not that day's: "
                    "land the bill under its own day",
                ),
            )
        )
        return parsed
    # A rejected row is still a row of the bill: the count is compared whatever was rejected, so a row missing
    # beside a bad one is not hidden; the amounts only when every row was read.
    mismatches = [f"总交易单数 stated {count}, found {len(details)} rows"] if count != len(details) else []
    if all_good:
        mismatches += [
            f"{name} stated {s}, rows add up to {c}"
            for name, s, c in zip(("应结订单总金额", "退款总金额", "手续费总金额"), stated, sums, strict=True)
            if s != c
        ]
    parsed.append(_summary_line(summary_row.record(source_file), count, stated, mismatches, _summary_of(cols)))
    return parsed
