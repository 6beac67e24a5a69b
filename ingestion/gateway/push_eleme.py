"""Eleme (饿了么开放平台) pushes: a JSON envelope (OMessage) whose `message` is the payload as JSON text.

Envelope fields requestId, type, appId, message, shopId, timestamp (epoch ms), signature, userId
(dllen/eleme-openapi-java-sdk @ 8f7ef6c0d9b8c49c7eebcf2f4b4e259303fcaa5d, `api/entity/other/OMessage.java`;
a real one: ../shared/real-samples/eleme/wymenuv2_push_type10_envelope_2018.json). The SDK's receiving demo
(`src/main/java/eleme/openapi/demo/HttpServerDemo.java`) answers a GET (the console checking the URL) and every
valid push with `{"message":"ok"}` and an invalid one with HTTP 500 and the error in `message`.

Message types (the table copied from Eleme's documentation into a public `CallbackVO.java`, package
org.hiylo.components.fentity.vo.fooddelivered.eleme; handled the same way by liuyandong33/service-catering,
`ElemeController.orderCallback`):
- 10 订单生效 (new order) → kind=order, the record being the envelope as one JSON line (eleme landing format);
  217 is its successor since 2023-09-30 (a lean OOrder with the fulfilment fields only; a public POS
  integration's Eleme handler in the code index, repository not named, parses it as an OOrder) → kind=order too;
- 14 订单被取消（接单前）, 15 订单置为无效（接单后）, 17 订单强制无效, 23 商户同意取消单, 25 客服仲裁取消单申请有效,
  33 商户同意退单, 35 客服仲裁退单有效 → kind=cancel with the message's orderId, unless the message says
  `"refundType": "part"` (a partial refund, per the same handler; then kind=notice);
- every other type (12 接单, 18 完结, 20-22/24/26 取消单流程, 30-32/34/36 退单流程, 45 催单, 51-76 运单, 91+ 店铺,
  授权) → kind=notice: verified and acknowledged, nothing to reserve or release.
"""

from __future__ import annotations

import json

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

NEW_ORDER_TYPES = frozenset({10, 217})
PARTIAL_REFUND = "part"
CANCEL_TYPES = {
    14: "订单被取消（接单前）",
    15: "订单置为无效（接单后）",
    17: "订单强制无效",
    23: "商户同意取消单",
    25: "客服仲裁取消单申请有效",
    33: "商户同意退单",
    35: "客服仲裁退单有效",
}
_INTEGER_FIELDS = ("type", "appId", "shopId", "timestamp", "userId")


def _envelope(body: bytes) -> dict:
    try:
        envelope = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise malformed("the body is not UTF-8") from None
    except json.JSONDecodeError as err:
        raise malformed(f"the body is not JSON ({err.msg})") from None
    if not isinstance(envelope, dict):
        raise malformed("the body is not an Eleme push envelope (a JSON object)")
    return envelope


def _checked_fields(envelope: dict) -> None:
    missing = [key for key in signatures.ELEME_SIGNED if key not in envelope or envelope[key] is None]
    if missing:
        raise malformed(f"envelope lacks {', '.join(missing)}")
    for key in _INTEGER_FIELDS:
        value = envelope[key]
        if not isinstance(value, int) or isinstance(value, bool):
            raise malformed(f"envelope {key} must be an integer, got {value!r}")
    for key in ("requestId", "message"):
        if not isinstance(envelope[key], str):
            raise malformed(f"envelope {key} must be a string")


def _message(envelope: dict) -> tuple[dict, str]:
    """(the message object, its order id); malformed when it is not JSON text of an object with an order id."""
    try:
        message = json.loads(envelope["message"])
    except json.JSONDecodeError:
        raise malformed("message is not JSON text") from None
    if not isinstance(message, dict):
        raise malformed(f"type {envelope['type']} message is not a JSON object")
    order_id = message.get("orderId") or message.get("id")
    if order_id in (None, ""):
        raise malformed(f"type {envelope['type']} message carries no orderId")
    return message, str(order_id)


class ElemeProtocol:
    channel = "eleme"

    def read(self, request: WireRequest, credentials: Credentials) -> Push:
        if not request.body.strip():
            return Push(self.channel, "ping", None, None, None, 0.0, "eleme:ping")
        envelope = _envelope(request.body)
        given = envelope.get("signature")
        if not isinstance(given, str) or not given.strip():
            raise missing_signature("envelope has no signature")
        _checked_fields(envelope)
        if str(envelope["appId"]) != credentials.app_id:
            raise unknown_app(f"appId {envelope['appId']} is not our Eleme application")
        if not signatures.matches(given, signatures.eleme_signature(envelope, credentials.secret)):
            raise bad_signature("signature does not match (envelope fields or secret differ)")
        sent_at = envelope["timestamp"] / 1000
        fingerprint = f"eleme:{given.strip().upper()}"
        kind = envelope["type"]
        if kind in NEW_ORDER_TYPES:
            _, order_id = _message(envelope)
            record = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
            return Push(self.channel, "order", record, order_id, None, sent_at, fingerprint)
        if kind in CANCEL_TYPES:
            message, order_id = _message(envelope)
            reason = f"[{kind}] {CANCEL_TYPES[kind]}"
            if message.get("refundType") == PARTIAL_REFUND:
                return Push(self.channel, "notice", None, order_id, reason + " (partial)", sent_at, fingerprint)
            return Push(self.channel, "cancel", None, order_id, reason, sent_at, fingerprint)
        return Push(self.channel, "notice", None, None, f"type {kind}", sent_at, fingerprint)

    def accepted(self) -> tuple[int, dict]:
        return 200, {"message": "ok"}

    def refused(self, code: str, message: str, status: int) -> tuple[int, dict]:
        return status, {"message": f"{code}: {message}"}
