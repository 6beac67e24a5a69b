"""Our own app and WeChat mini-program: a JSON order (the landing format) signed with HMAC-SHA256.

Headers `X-Orderhub-Timestamp` (epoch seconds) and `X-Orderhub-Signature: sha256=<hex>` over
`"<timestamp>." + raw body` (see signatures.py). The body is one order exactly as the batch files hold it
(docs/landing-formats.md "app" / "miniprogram"); a status change is the same order re-pushed. A signed empty
body is a ping. Replies: `{"ok": true}` / `{"ok": false, "code": …, "message": …}`.
"""

from __future__ import annotations

import json

from ingestion.gateway import signatures
from ingestion.gateway.wire import Credentials, Push, WireRequest, bad_signature, malformed, missing_signature

TIMESTAMP_HEADER = "x-orderhub-timestamp"
SIGNATURE_HEADER = "x-orderhub-signature"


class OwnAppProtocol:
    def __init__(self, channel: str):
        self.channel = channel

    def read(self, request: WireRequest, credentials: Credentials) -> Push:
        timestamp = request.headers.get(TIMESTAMP_HEADER, "").strip()
        given = request.headers.get(SIGNATURE_HEADER, "").strip()
        if not given:
            raise missing_signature(f"no {SIGNATURE_HEADER} header")
        if not timestamp:
            raise missing_signature(f"no {TIMESTAMP_HEADER} header")
        if not timestamp.isdigit() or not timestamp.isascii():
            raise malformed(f"{TIMESTAMP_HEADER} {timestamp!r} is not epoch seconds")
        if not given.startswith(signatures.OWN_PREFIX):
            raise bad_signature(f"{SIGNATURE_HEADER} must read sha256=<hex>")
        if not signatures.matches(given, signatures.own_signature(credentials.secret, timestamp, request.body)):
            raise bad_signature("signature does not match (body, timestamp or secret differ)")
        sent_at, fingerprint = float(timestamp), f"{self.channel}:{given.lower()}"
        if not request.body.strip():
            return Push(self.channel, "ping", None, None, None, sent_at, fingerprint)
        try:
            order = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise malformed("the body is not UTF-8 JSON") from None
        if not isinstance(order, dict) or not isinstance(order.get("items"), list):
            raise malformed(f"the body is not a {self.channel} order (a JSON object with items)")
        order_no = order.get("order_no")
        if not isinstance(order_no, str) or not order_no.strip():
            raise malformed("the order has no order_no")
        record = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
        return Push(self.channel, "order", record, order_no, None, sent_at, fingerprint)

    def accepted(self) -> tuple[int, dict]:
        return 200, {"ok": True}

    def refused(self, code: str, message: str, status: int) -> tuple[int, dict]:
        return status, {"ok": False, "code": code, "message": message}
