"""Meituan and Eleme pushes: real platform samples signed and read back into the landing lines the batch adapters read."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest

from ingestion.adapters import ADAPTERS
from ingestion.gateway import signatures
from ingestion.gateway.protocols import (
    PROTOCOLS,
    Credentials,
    PushRejected,
    WireRequest,
)
from ingestion.records import RawRecord

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-samples"
KC_SAMPLE = SAMPLES / "meituan" / "kuangcao_mtwm-sdk_push_params_checkSig.json"
ELEME_ENVELOPE = SAMPLES / "eleme" / "wymenuv2_push_type10_envelope_2018.json"
ELEME_ORDER = SAMPLES / "eleme" / "service-catering_note_order_1222507828638127147.json"
# kuangcao/meituanwaimai-sdk, OrderServiceImplTest.checkSig: the URL and secret its sample was signed for.
KC_URL = "http://is52e.ngrok.natapp.cn/waimai/m/1/meituan/callback.json"
KC_CREDENTIALS = Credentials(app_id="409", secret="9f9d5562d44dedef5b25a780a08bc0ca")
KC_SIG = "16b154fcaae01986ec3ff6e9e18c738c"
FORM = "application/x-www-form-urlencoded"
MT_URL = "https://gw.example.com/push/meituan"
MT = Credentials(app_id="5566", secret="s3cr3t")
ELE = Credentials(app_id="84719338", secret="e1e-s3cr3t")
NOW = 1764127925


def _sample(path: Path):
    if not path.exists():
        pytest.skip(f"real sample {path.name} is absent (../shared/real-samples)")
    return json.loads(path.read_text(encoding="utf-8"))


def _rejected(channel: str, request: WireRequest, credentials: Credentials, code: str, status: int) -> PushRejected:
    with pytest.raises(PushRejected) as caught:
        PROTOCOLS[channel].read(request, credentials)
    assert (caught.value.code, caught.value.status) == (code, status), caught.value.message
    return caught.value


def _extracted(channel: str, record: str):
    return ADAPTERS[channel].extract(RawRecord("gw", 1, record))


# --- Meituan -------------------------------------------------------------------------------------------


def _kc_decoded() -> dict[str, str]:
    from urllib.parse import unquote_plus

    return {k: unquote_plus(v) for k, v in _sample(KC_SAMPLE).items()}


def test_meituan_sdk_test_vector_reproduces():
    params = _kc_decoded()
    assert params.pop("sig") == KC_SIG
    assert signatures.meituan_sig(KC_URL, params, KC_CREDENTIALS.secret) == KC_SIG
    assert signatures.meituan_base_string(KC_URL, params, "S").startswith(KC_URL + "?app_id=409&app_poi_code=")


@pytest.mark.parametrize("encoding", ["values_encoded_in_form", "form_encoded_once"])
def test_meituan_real_push_is_read_into_the_adapters_landing_line(encoding):
    raw = _sample(KC_SAMPLE)
    fields = raw if encoding == "values_encoded_in_form" else _kc_decoded()
    request = WireRequest(KC_URL, {}, {}, urlencode(fields).encode(), FORM + "; charset=UTF-8")
    push = PROTOCOLS["meituan"].read(request, KC_CREDENTIALS)
    assert (push.kind, push.channel_order_id, push.sent_at) == ("order", "2310763339", 1476355830.0)
    assert push.fingerprint == f"meituan:{KC_SIG}"
    record = json.loads(push.record)
    assert not {"app_id", "timestamp", "sig"} & set(record)
    assert record["recipient_name"] == "王磊 (先生)" and json.loads(record["detail"])[0]["food_name"] == "测试菜品1"
    extracted = _extracted("meituan", push.record)
    assert extracted.order["channel_order_id"] == "2310763339"
    assert [(line["sku_id"], line["quantity"]) for line in extracted.lines] == [("1", "1")]


def _mt_request(fields: dict[str, str], url: str = MT_URL, credentials: Credentials = MT) -> WireRequest:
    params = signatures.sign_meituan(url, fields, credentials.app_id, credentials.secret, NOW)
    return WireRequest(MT_URL, {}, {}, signatures.meituan_form_body(params), FORM)


def _mt_order_fields() -> dict[str, str]:
    fields = _kc_decoded()
    for key in ("app_id", "timestamp", "sig"):
        fields.pop(key)
    return fields


def test_meituan_signed_by_our_signer_is_accepted_and_replied_ok():
    push = PROTOCOLS["meituan"].read(_mt_request(_mt_order_fields()), MT)
    assert push.kind == "order" and push.sent_at == NOW
    assert PROTOCOLS["meituan"].accepted() == (200, {"data": "ok"})
    status, body = PROTOCOLS["meituan"].refused("out_of_stock", "SKU 1 sold out", 409)
    assert status == 409 and body == {"data": "ng", "error": {"code": "out_of_stock", "msg": "SKU 1 sold out"}}


def test_meituan_worked_example_from_the_docs():
    fields = {"order_id": "27061900338318741", "reason_code": "1001", "reason": "用户取消", "deal_op_type": "1"}
    params = signatures.sign_meituan("https://gw.example.com/push/meituan/cancel", fields, "5566", "s3cr3t", NOW)
    assert params["sig"] == "598c5c4b467de14f0a440b0c1a3c4375"


def test_meituan_tampered_wrong_secret_wrong_url_missing_sig_unknown_app():
    good = _mt_request(_mt_order_fields())
    tampered = WireRequest(MT_URL, {}, {}, good.body.replace(b"total=9.1", b"total=0.1"), FORM)
    assert b"total=0.1" in tampered.body
    _rejected("meituan", tampered, MT, "bad_signature", 401)
    _rejected("meituan", good, Credentials("5566", "other"), "bad_signature", 401)
    _rejected("meituan", _mt_request(_mt_order_fields(), url=MT_URL.replace("https", "http")), MT, "bad_signature", 401)
    no_sig = WireRequest(
        MT_URL, {}, {}, urlencode({"order_id": "1", "app_id": "5566", "timestamp": NOW}).encode(), FORM
    )
    _rejected("meituan", no_sig, MT, "missing_signature", 401)
    _rejected("meituan", good, Credentials("9999", MT.secret), "unknown_app", 403)


def test_meituan_malformed_requests_are_refused_clearly():
    good = _mt_request(_mt_order_fields())
    _rejected("meituan", WireRequest(MT_URL, {}, {}, good.body, "application/json"), MT, "malformed", 400)
    _rejected("meituan", WireRequest(MT_URL, {}, {}, good.body + b"&total=1", FORM), MT, "malformed", 400)
    _rejected("meituan", WireRequest(MT_URL, {}, {}, b"\xff\xfe=1", FORM), MT, "malformed", 400)
    bad_time = {"order_id": "1", "detail": "[]", "app_id": "5566", "timestamp": "soon"}
    bad_time["sig"] = signatures.meituan_sig(MT_URL, bad_time, "s3cr3t")
    request = WireRequest(MT_URL, {}, {}, signatures.meituan_form_body(bad_time), FORM)
    assert "epoch seconds" in _rejected("meituan", request, MT, "malformed", 400).message
    moved = signatures.sign_meituan(MT_URL, {"order_id": "1", "detail": "[]"}, "5566", "s3cr3t", NOW)
    moved["timestamp"] = str(NOW + 60)
    request = WireRequest(MT_URL, {}, {}, signatures.meituan_form_body(moved), FORM)
    _rejected("meituan", request, MT, "bad_signature", 401)  # the signature covers the timestamp
    unknown = _mt_request({"order_id": "1", "poi_status": "open"})
    _rejected("meituan", unknown, MT, "malformed", 400)


def test_meituan_url_check_is_a_ping():
    push = PROTOCOLS["meituan"].read(WireRequest(MT_URL), MT)
    assert push.kind == "ping" and push.record is None


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"order_id": "27061900338318741", "reason_code": "1001", "reason": "用户取消", "deal_op_type": "1"}, "cancel"),
        ({"order_id": "27061900338318741", "notify_type": "agree", "refund_id": "9", "reason": "缺货"}, "cancel"),
        ({"order_id": "27061900338318741", "res_type": "5", "refund_id": "9", "reason": "超时"}, "cancel"),
        ({"order_id": "27061900338318741", "notify_type": "apply", "res_type": "0", "reason": "不想要了"}, "notice"),
        ({"order_id": "27061900338318741", "refund_id": "9", "refund_status": "3", "money": "9.1"}, "cancel"),
        (
            {
                "order_id": "27061900338318741",
                "notify_type": "agree",
                "res_type": "2",
                "food": '[{"app_food_code":"1"}]',
                "money": "0.1",
                "reason": "少送",
            },
            "notice",
        ),  # fmt: skip
        ({"order_id": "27061900338318741", "refund_id": "9", "refund_status": "13", "money": "0.1"}, "notice"),
    ],
)
def test_meituan_cancel_and_refund_pushes(fields, kind):
    push = PROTOCOLS["meituan"].read(_mt_request(fields), MT)
    assert (push.kind, push.channel_order_id, push.record) == (kind, "27061900338318741", None)
    assert push.reason


def test_meituan_cancel_reason_carries_code_and_text():
    fields = {"order_id": "1", "reason_code": "1001", "reason": "用户取消", "deal_op_type": "1"}
    assert PROTOCOLS["meituan"].read(_mt_request(fields), MT).reason == "[1001] 用户取消"


def test_meituan_value_with_plus_survives_both_readings():
    fields = {**_mt_order_fields(), "caution": "门牌 (1+2=3) 100%"}
    push = PROTOCOLS["meituan"].read(_mt_request(fields), MT)
    assert json.loads(push.record)["caution"] == "门牌 (1+2=3) 100%"
    params = signatures.sign_meituan(MT_URL, fields, "5566", "s3cr3t", NOW)
    double = urlencode({k: quote_plus(v) for k, v in params.items()}).encode()
    push = PROTOCOLS["meituan"].read(WireRequest(MT_URL, {}, {}, double, FORM), MT)
    assert json.loads(push.record)["caution"] == "门牌 (1+2=3) 100%"


# --- Eleme ---------------------------------------------------------------------------------------------


def _ele_request(envelope: dict, credentials: Credentials = ELE) -> WireRequest:
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    body = json.dumps(signatures.sign_eleme(unsigned, credentials.secret), ensure_ascii=False).encode()
    return WireRequest("https://gw.example.com/push/eleme", {}, {}, body, "application/json; charset=utf-8")


def _ele_envelope(kind: int, message: dict | str) -> dict:
    text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    return {"requestId": "100000021764401594", "type": kind, "appId": int(ELE.app_id), "message": text,
            "shopId": 161856062, "timestamp": NOW * 1000 + 79, "userId": 363866787356715916}  # fmt: skip


def test_eleme_real_envelope_is_read_into_the_adapters_landing_line():
    envelope = _sample(ELEME_ENVELOPE)
    push = PROTOCOLS["eleme"].read(_ele_request(envelope), ELE)
    assert (push.kind, push.channel_order_id, push.sent_at) == ("order", "3023315330813370439", 1526446800.079)
    assert "\n" not in push.record and json.loads(push.record)["userId"] == 363866787356715916
    extracted = _extracted("eleme", push.record)
    assert extracted.order["channel_order_id"] == "3023315330813370439"
    assert [(line["sku_id"], line["quantity"]) for line in extracted.lines] == [("042674038320", "1")]
    assert PROTOCOLS["eleme"].accepted() == (200, {"message": "ok"})
    assert PROTOCOLS["eleme"].refused("rate_limited", "slow down", 429) == (429, {"message": "rate_limited: slow down"})


def test_eleme_real_order_in_an_envelope():
    order = _sample(ELEME_ORDER)
    push = PROTOCOLS["eleme"].read(_ele_request(_ele_envelope(10, order)), ELE)
    assert _extracted("eleme", push.record).order["channel_order_id"] == "1222507828638127147"


def test_eleme_worked_example_from_the_docs():
    envelope = {"requestId": "100000021764401594", "type": 14, "appId": 22954133, "shopId": 720032,
                "message": '{"orderId":"1200897812792015983","state":"invalid","shopId":720032,'
                '"updateTime":1488774535,"role":1}', "timestamp": 1488774535366, "userId": 98587250597500702}  # fmt: skip
    assert signatures.eleme_signature(envelope, "s3cr3t") == "B0E75D50F11479C32E6F46B318867332"


@pytest.mark.parametrize("kind", [14, 15, 17, 23, 25, 33, 35])
def test_eleme_cancel_types_carry_the_order_id(kind):
    message = {"orderId": "1200897812792015983", "state": "invalid", "shopId": 720032, "updateTime": 1488774535}
    push = PROTOCOLS["eleme"].read(_ele_request(_ele_envelope(kind, message)), ELE)
    assert (push.kind, push.channel_order_id, push.record) == ("cancel", "1200897812792015983", None)
    assert push.reason.startswith(f"[{kind}]")


@pytest.mark.parametrize("kind", [33, 35])
def test_eleme_partial_refund_is_a_notice(kind):
    message = {"orderId": "1200897812792015983", "refundType": "part", "totalPrice": 3.5, "goodsList": []}
    push = PROTOCOLS["eleme"].read(_ele_request(_ele_envelope(kind, message)), ELE)
    assert (push.kind, push.channel_order_id) == ("notice", "1200897812792015983")


def test_eleme_type_217_new_order_is_an_order():
    order = _sample(ELEME_ORDER)
    push = PROTOCOLS["eleme"].read(_ele_request(_ele_envelope(217, order)), ELE)
    assert (push.kind, push.channel_order_id) == ("order", "1222507828638127147")


@pytest.mark.parametrize("kind", [12, 18, 20, 30, 39, 56])
def test_eleme_other_types_are_notices(kind):
    push = PROTOCOLS["eleme"].read(_ele_request(_ele_envelope(kind, {"orderId": "1"})), ELE)
    assert push.kind == "notice" and push.channel_order_id is None


def test_eleme_signature_is_case_insensitive_and_url_check_is_a_ping():
    request = _ele_request(_ele_envelope(14, {"orderId": "7"}))
    lower = json.loads(request.body)
    lower["signature"] = lower["signature"].lower()
    push = PROTOCOLS["eleme"].read(WireRequest(request.url, {}, {}, json.dumps(lower).encode()), ELE)
    assert push.kind == "cancel"
    assert PROTOCOLS["eleme"].read(WireRequest(request.url), ELE).kind == "ping"


def test_eleme_tampered_wrong_secret_missing_signature_unknown_app_malformed():
    good = _ele_request(_sample(ELEME_ENVELOPE))
    envelope = json.loads(good.body)
    tampered = {**envelope, "message": envelope["message"].replace('"quantity":1', '"quantity":9')}
    assert tampered["message"] != envelope["message"]
    _rejected("eleme", WireRequest(good.url, {}, {}, json.dumps(tampered).encode()), ELE, "bad_signature", 401)
    _rejected("eleme", good, Credentials(ELE.app_id, "other"), "bad_signature", 401)
    unsigned = {k: v for k, v in envelope.items() if k != "signature"}
    _rejected("eleme", WireRequest(good.url, {}, {}, json.dumps(unsigned).encode()), ELE, "missing_signature", 401)
    _rejected("eleme", good, Credentials("1", ELE.secret), "unknown_app", 403)
    _rejected("eleme", WireRequest(good.url, {}, {}, b"type=10&message=x"), ELE, "malformed", 400)
    no_user = {k: v for k, v in envelope.items() if k != "userId"}
    _rejected("eleme", WireRequest(good.url, {}, {}, json.dumps(no_user).encode()), ELE, "malformed", 400)
    no_order = _ele_request(_ele_envelope(14, {"state": "invalid"}))
    _rejected("eleme", no_order, ELE, "malformed", 400)
