"""Meituan (美团外卖 / 闪购开放平台) pushes to our callback URL: form-encoded, signed with `sig`.

One callback reads every push Meituan sends us; which push it is follows from its fields:

- paid order (推送已支付订单, open-shangou docDetail/174): `detail` present → kind=order, the record being
  the form fields but app_id/timestamp/sig as a JSON object of strings, decoded (the meituan landing format);
- cancel (推送用户或客服取消订单, docDetail/201): `reason_code` → kind=cancel;
- full refund (推送全额退款信息, docDetail/204): `notify_type` / `res_type` → kind=cancel once the refund is
  agreed (notify_type `agree`, or res_type 2 商家同意 / 4 客服帮商家同意 / 5 超时自动同意 / 6 系统自动确认),
  kind=notice while it is only applied for, rejected or withdrawn;
- partial refund (推送部分退款信息, docDetail/207): the same notify_type / res_type plus `food` (the refunded
  items) and `money` → kind=notice whatever its state (a partial refund carries no whole order to re-push);
- refund status (推送退款状态, docDetail/502): `refund_status` 3 (全部退款成功) → kind=cancel; partial refunds
  (13) and failures → kind=notice (a partial refund carries no whole order to re-push);
- nothing at all (the console checking the URL, which may be a GET) → kind=ping.
Field lists: easynet-cn/go-meituan @ c098480852ce03da03c46652681baf98dadbb405, `app/app_*_request.go`.

Values: Meituan signs the decoded values. Real integrations see them still URL-encoded after the form is
parsed (kuangcao/meituanwaimai-sdk's `urlDecodeParams` and its checkSig sample), others see them decoded
once; the signature decides which reading is the one Meituan signed, so both arrive intact.
Reply: `{"data":"ok"}` (song-yuan/wymenuv2, `protected/controllers/MeituanController.php`, answers every push
that way); anything else is a failure, answered in Meituan's own error shape `{"data":"ng","error":{…}}`.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote_plus

from ingestion.gateway import signatures
from ingestion.gateway.wire import (
    Credentials,
    Push,
    WireRequest,
    bad_signature,
    malformed,
    missing_signature,
    unknown_app,
)

_AGREED_RES_TYPES = frozenset({"2", "4", "5", "6"})
_FULL_REFUND_DONE = "3"
_MAX_FIELDS = 500


def _form(request: WireRequest) -> dict[str, str]:
    if not request.body:
        return {}
    if "x-www-form-urlencoded" not in request.content_type.lower():
        raise malformed(f"Meituan posts application/x-www-form-urlencoded, not {request.content_type or 'no type'}")
    try:
        text = request.body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True, max_num_fields=_MAX_FIELDS)
    except UnicodeDecodeError:
        raise malformed("the form is not UTF-8") from None
    except ValueError as err:
        raise malformed(f"the form cannot be parsed ({err})") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise malformed(f"field {key!r} appears twice")
        form[key] = value
    return form


def _signed_values(request: WireRequest, params: dict[str, str], secret: str) -> dict[str, str]:
    """The parameters as Meituan signed them: as parsed, or decoded once more (values sent URL-encoded)."""
    given = params["sig"]
    once = {k: v for k, v in params.items() if k != "sig"}
    twice = {k: unquote_plus(v) for k, v in once.items()}
    # Both digests are always computed, so the time taken does not tell which reading came close.
    once_ok = signatures.matches(given, signatures.meituan_sig(request.url, once, secret))
    twice_ok = signatures.matches(given, signatures.meituan_sig(request.url, twice, secret))
    if once_ok:
        return once
    if twice_ok:
        return twice
    raise bad_signature("sig does not match (URL, parameters or secret differ)")


def _reason(values: dict[str, str]) -> str | None:
    code, text = values.get("reason_code"), values.get("reason")
    if code and text:
        return f"[{code}] {text}"
    return text or code or None


class MeituanProtocol:
    channel = "meituan"

    def read(self, request: WireRequest, credentials: Credentials) -> Push:
        form = _form(request)
        clash = sorted(set(form) & set(request.query))
        if clash:
            raise malformed(f"{', '.join(clash)} given both in the URL and in the form")
        params = {**request.query, **form}
        if not params:
            return Push(self.channel, "ping", None, None, None, 0.0, "meituan:ping")
        if not params.get("sig"):
            raise missing_signature("no sig parameter")
        for name in ("app_id", "timestamp"):
            if not params.get(name):
                raise malformed(f"no {name} parameter (signed pushes always carry it)")
        if params["app_id"] != credentials.app_id:
            raise unknown_app(f"app_id {params['app_id']!r} is not our Meituan application")
        values = _signed_values(request, params, credentials.secret)
        try:
            sent_at = float(int(values["timestamp"]))
        except ValueError:
            raise malformed(f"timestamp {values['timestamp']!r} is not epoch seconds") from None
        fields = {k: v for k, v in values.items() if k not in signatures.MEITUAN_SYSTEM and k in form}
        return self._classified(fields, sent_at, f"meituan:{params['sig'].strip().lower()}")

    def _classified(self, fields: dict[str, str], sent_at: float, fingerprint: str) -> Push:
        order_id = fields.get("order_id") or fields.get("wm_order_id_view") or None
        if not fields:
            return Push(self.channel, "ping", None, None, None, sent_at, fingerprint)
        if order_id is None:
            raise malformed("no order_id: not a Meituan order, cancel or refund push")
        if "detail" in fields:
            record = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
            return Push(self.channel, "order", record, order_id, None, sent_at, fingerprint)
        if "reason_code" in fields:
            return Push(self.channel, "cancel", None, order_id, _reason(fields), sent_at, fingerprint)
        if "notify_type" in fields or "res_type" in fields:
            state = fields.get("notify_type") or f"res_type={fields.get('res_type', '')}"
            if "food" in fields:
                reason = f"partial refund {state}: {fields.get('reason') or ''}"
                return Push(self.channel, "notice", None, order_id, reason, sent_at, fingerprint)
            agreed = fields.get("notify_type") == "agree" or fields.get("res_type") in _AGREED_RES_TYPES
            reason = f"full refund {state}: {fields.get('reason') or ''}"
            return Push(self.channel, "cancel" if agreed else "notice", None, order_id, reason, sent_at, fingerprint)
        if "refund_status" in fields:
            kind = "cancel" if fields["refund_status"] == _FULL_REFUND_DONE else "notice"
            reason = f"refund_status={fields['refund_status']}"
            return Push(self.channel, kind, None, order_id, reason, sent_at, fingerprint)
        raise malformed("neither an order (detail), a cancel (reason_code) nor a refund (notify_type, refund_status)")

    def accepted(self) -> tuple[int, dict]:
        return 200, {"data": "ok"}

    def refused(self, code: str, message: str, status: int) -> tuple[int, dict]:
        return status, {"data": "ng", "error": {"code": code, "msg": message}}
