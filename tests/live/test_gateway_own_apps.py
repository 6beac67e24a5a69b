"""Our app's and mini-program's signed pushes (HMAC-SHA256 over timestamp and body), and the credentials file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.adapters import ADAPTERS
from ingestion.gateway import signatures
from ingestion.gateway.protocols import (
    PROTOCOLS,
    Credentials,
    CredentialsError,
    PushRejected,
    WireRequest,
    load_credentials,
)
from ingestion.records import RawRecord

OWN = Credentials(app_id=None, secret="own-s3cr3t")
NOW = 1764127925


def _rejected(request: WireRequest, code: str, status: int, credentials: Credentials = OWN) -> PushRejected:
    with pytest.raises(PushRejected) as caught:
        PROTOCOLS["app"].read(request, credentials)
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    return caught.value


# --- our app and mini-program --------------------------------------------------------------------------

APP_ORDER = {
    "order_no": "APP2026112600001", "member_id": "M0000123", "store_code": "SH001", "status": "paid",
    "fulfilment": "delivery", "created_at": "2026-11-26T11:32:05+08:00", "paid_at": "2026-11-26T11:32:30+08:00",
    "updated_at": "2026-11-26T11:32:30+08:00",
    "receiver": {"name": "张伟", "phone": "13812345678", "address": "上海市浦东新区张江镇碧波路690号3号楼2单元501室",
                 "lat": 31.2035, "lng": 121.5903},
    "delivery_window": None,
    "items": [{"sku": "SKU0012", "name": "有机菠菜 300g", "qty": 2, "unit_price": 6.9, "original_price": 7.9,
               "discount": 2.0}],
    "amounts": {"goods": 15.8, "merchant_discount": 2.0, "platform_discount": 0.0, "delivery_fee": 3.0,
                "packaging_fee": 0.5, "paid": 17.3},
    "payment_method": "wechat",
}  # fmt: skip


def _own_request(body: bytes, secret: str = OWN.secret, timestamp: int = NOW) -> WireRequest:
    headers = signatures.sign_own(secret, body, timestamp)
    return WireRequest("https://gw.example.com/push/app", {}, headers, body, "application/json")


@pytest.mark.parametrize("channel", ["app", "miniprogram"])
def test_own_app_order_is_read_into_the_adapters_landing_line(channel):
    order = dict(APP_ORDER, order_no="MP2026112600001") if channel == "miniprogram" else APP_ORDER
    body = json.dumps(order, ensure_ascii=False, indent=2).encode()
    push = PROTOCOLS[channel].read(_own_request(body), OWN)
    assert (push.kind, push.channel_order_id, push.sent_at) == ("order", order["order_no"], NOW)
    assert "\n" not in push.record
    extracted = ADAPTERS[channel].extract(RawRecord("gw", 1, push.record))
    assert extracted.order["channel_order_id"] == order["order_no"]
    assert [(line["sku_id"], line["quantity"]) for line in extracted.lines] == [("SKU0012", "2")]


def test_own_app_worked_example_and_replies():
    body = b'{"order_no":"APP2026112600001"}'
    assert signatures.own_signature("s3cr3t", NOW, body) == (
        "sha256=f366930e67aa460e1cf434aec5591a3687b833f2874ae33ec2efcd0370deea55"
    )
    assert PROTOCOLS["app"].accepted() == (200, {"ok": True})
    refused = PROTOCOLS["app"].refused("out_of_stock", "SKU0012 sold out", 409)
    assert refused == (409, {"ok": False, "code": "out_of_stock", "message": "SKU0012 sold out"})


def test_own_app_rejections():
    body = json.dumps(APP_ORDER).encode()
    good = _own_request(body)
    tampered = WireRequest(good.url, {}, good.headers, body.replace(b"17.3", b"1.73"), good.content_type)
    _rejected(tampered, "bad_signature", 401)
    _rejected(good, "bad_signature", 401, Credentials(None, "other"))
    moved = {**good.headers, "x-orderhub-timestamp": str(NOW + 60)}
    _rejected(WireRequest(good.url, {}, moved, body), "bad_signature", 401)
    bare = {**good.headers, "x-orderhub-signature": good.headers["x-orderhub-signature"].removeprefix("sha256=")}
    _rejected(WireRequest(good.url, {}, bare, body), "bad_signature", 401)
    for header in ("x-orderhub-signature", "x-orderhub-timestamp"):
        headers = {k: v for k, v in good.headers.items() if k != header}
        _rejected(WireRequest(good.url, {}, headers, body), "missing_signature", 401)
    _rejected(_own_request(b"[1, 2]"), "malformed", 400)
    _rejected(_own_request(b"not json"), "malformed", 400)
    _rejected(_own_request(json.dumps({**APP_ORDER, "order_no": ""}).encode()), "malformed", 400)
    odd_time = {**good.headers, "x-orderhub-timestamp": "yesterday"}
    _rejected(WireRequest(good.url, {}, odd_time, body), "malformed", 400)


def test_own_app_signed_empty_body_is_a_ping():
    push = PROTOCOLS["miniprogram"].read(_own_request(b""), OWN)
    assert push.kind == "ping" and push.sent_at == NOW


def test_fingerprints_differ_per_request():
    one = PROTOCOLS["app"].read(_own_request(json.dumps(APP_ORDER).encode()), OWN)
    two = PROTOCOLS["app"].read(_own_request(json.dumps(APP_ORDER).encode(), timestamp=NOW + 1), OWN)
    assert one.fingerprint != two.fingerprint


# --- credentials ---------------------------------------------------------------------------------------

GOOD_CREDENTIALS = {
    "meituan": {"app_id": "5566", "secret": "a"},
    "eleme": {"app_id": 84719338, "secret": "b"},
    "app": {"secret": "c"},
    "miniprogram": {"secret": "d"},
}


def _write(tmp_path: Path, content) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_credentials_file_is_loaded(tmp_path):
    loaded = load_credentials(_write(tmp_path, GOOD_CREDENTIALS))
    assert loaded["eleme"] == Credentials("84719338", "b") and loaded["app"] == Credentials(None, "c")
    assert "b" not in repr(loaded["eleme"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not JSON"),
        ([1, 2], "expected a JSON object"),
        ({k: v for k, v in GOOD_CREDENTIALS.items() if k != "eleme"}, "no credentials for eleme"),
        ({**GOOD_CREDENTIALS, "meituan": {"secret": "a"}}, "meituan: 'app_id'"),
        ({**GOOD_CREDENTIALS, "app": {"secret": ""}}, "app: 'secret'"),
        ({**GOOD_CREDENTIALS, "app": {"secret": "c", "app_id": "x"}}, "app: our own apps have no 'app_id'"),
        ({**GOOD_CREDENTIALS, "jd": {"secret": "x"}}, "unknown channel(s) jd"),
        ({**GOOD_CREDENTIALS, "eleme": "b"}, "eleme: expected an object"),
    ],
)
def test_credentials_errors_name_what_is_wrong(tmp_path, content, expected):
    with pytest.raises(CredentialsError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_credentials(_write(tmp_path, content))


def test_credentials_missing_file(tmp_path):
    with pytest.raises(CredentialsError, match="not found"):
        load_credentials(tmp_path / "nope.json")
