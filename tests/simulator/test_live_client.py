"""The live load client against a small gateway stand-in written here (FastAPI under uvicorn, in a thread):
every order arrives once and decodes back to its landing line, signatures verify by the sources' rules
(re-implemented here, not imported), retries and refusals are told apart, the concurrency limit holds."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote_plus

import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from simulator import simulate_day
from simulator.live import (
    CredentialsError,
    Unbuildable,
    WirePush,
    load_credentials,
    push_all,
    wire_pushes,
    write_dev_credentials,
)
from simulator.live.signing import eleme_signature, meituan_sig

REAL_SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-samples"
CHANNELS = ("app", "miniprogram", "meituan", "eleme")


class Gateway:
    """What the stand-in saw, and how it should answer: per order key a list of statuses to give in turn."""

    def __init__(self, credentials: dict) -> None:
        self.credentials = credentials
        self.reset()

    def reset(self) -> None:
        self.arrived: list[tuple[str, str, dict | bytes]] = []  # (path, key, decoded payload)
        self.hits: dict[str, int] = {}
        self.script: dict[str, list[int]] = {}
        self.default_status = 200
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bad_signatures: list[str] = []


def _gateway_app(gw: Gateway, base_url: str) -> FastAPI:
    app = FastAPI()

    async def handle(request: Request, channel: str) -> JSONResponse:
        gw.in_flight += 1
        gw.max_in_flight = max(gw.max_in_flight, gw.in_flight)
        try:
            raw = await request.body()
            key, payload, ok_sig = _verify(gw.credentials, channel, base_url + request.url.path, raw, request.headers)
            if not ok_sig:
                gw.bad_signatures.append(key)
            gw.hits[key] = gw.hits.get(key, 0) + 1
            if gw.delay_s:
                await asyncio.sleep(gw.delay_s)
            script = gw.script.get(key)
            status = script.pop(0) if script else gw.default_status
            if status == 200:
                gw.arrived.append((request.url.path, key, payload))
                return JSONResponse(_ok(channel))
            if status == 409:
                return JSONResponse({"ok": False, "code": "out_of_stock", "message": "no stock"}, status_code=409)
            return JSONResponse({"error": "busy"}, status_code=status)
        finally:
            gw.in_flight -= 1

    for path, channel in (
        ("/push/app", "app"),
        ("/push/miniprogram", "miniprogram"),
        ("/push/meituan/order", "meituan"),
        ("/push/meituan/cancel", "meituan"),
        ("/push/eleme", "eleme"),
    ):
        app.add_api_route(path, _route(handle, channel), methods=["POST"])
    return app


def _route(handle, channel: str):
    async def endpoint(request: Request) -> JSONResponse:
        return await handle(request, channel)

    return endpoint


def _ok(channel: str) -> dict:
    return {"meituan": {"data": "ok"}, "eleme": {"message": "ok"}}.get(channel, {"ok": True})


def _verify(creds: dict, channel: str, url: str, raw: bytes, headers) -> tuple[str, object, bool]:
    """The signature rules, written again from the sources (docs/live-intake-load.md), independently of simulator."""
    if channel == "meituan":
        form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        base = "&".join(sorted(f"{k}={unquote_plus(v)}" for k, v in form.items() if k != "sig"))
        sig = hashlib.md5(f"{url}?{base}{creds['meituan']['secret']}".encode()).hexdigest()
        ok = form.get("sig") == sig and form.get("app_id") == creds["meituan"]["app_id"]
        return form.get("order_id", ""), form, ok
    if channel == "eleme":
        env = json.loads(raw)
        base = "".join(
            f"{k}={env[k]}" for k in sorted(("requestId", "message", "type", "shopId", "timestamp", "userId", "appId"))
        )
        sig = hashlib.md5(f"{base}{creds['eleme']['secret']}".encode()).hexdigest().upper()
        return str(env.get("orderId")), env, env.get("signature", "").upper() == sig
    ts = headers.get("x-orderhub-timestamp", "")
    mac = hmac.new(creds[channel]["secret"].encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
    try:
        key = str(json.loads(raw).get("order_no"))
    except ValueError:
        key = raw.decode(errors="replace")
    return key, raw, headers.get("x-orderhub-signature") == f"sha256={mac}" and abs(time.time() - int(ts)) < 300


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    path = tmp_path_factory.mktemp("creds") / "credentials.json"
    write_dev_credentials(path)
    return path


@pytest.fixture(scope="module")
def gateway(credentials):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    gw = Gateway(json.loads(credentials.read_text()))
    server = uvicorn.Server(
        uvicorn.Config(_gateway_app(gw, base_url), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    gw.url = base_url
    yield gw
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def gw(gateway):
    gateway.reset()
    return gateway


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("live") / "landing"
    simulate_day(dt.date(2026, 11, 26), orders=120, seed=11, out=out)
    return out


def _landing_lines(landing: Path, channel: str) -> list[bytes]:
    lines = []
    for path in sorted((landing / "orders" / channel).rglob("*.jsonl")):
        lines += [line for line in path.read_bytes().splitlines() if line.strip()]
    return lines


def _distinct(pushes, n: int) -> list[WirePush]:
    """The first n pushes of different orders (a day's file also holds each order's status re-pushes)."""
    seen: dict[str, WirePush] = {}
    for push in pushes:
        seen.setdefault(push.order_key, push)
        if len(seen) == n:
            break
    return list(seen.values())


def _push(gw, credentials, pushes, **kw):
    kw = {"concurrency": 8, "deadline_s": 5.0, **kw}
    return asyncio.run(push_all(pushes, gw.url, **kw))


def test_every_order_arrives_once_signed_and_decodes_back_to_its_landing_line(gw, credentials, landing) -> None:
    skipped: list[Unbuildable] = []
    pushes = wire_pushes(landing, load_credentials(credentials), gw.url, unbuildable=skipped)
    report = _push(gw, credentials, pushes)

    assert not report.failed and not report.refused and not gw.bad_signatures
    assert not skipped, "the simulator's own lines must all be postable"
    by_path: dict[str, list] = {}
    for path, _, payload in gw.arrived:
        by_path.setdefault(path, []).append(payload)
    for channel in ("app", "miniprogram"):
        assert sorted(by_path[f"/push/{channel}"]) == sorted(_landing_lines(landing, channel))
    system = {"app_id", "timestamp", "sig"}
    meituan = [orjson.loads(line) for line in _landing_lines(landing, "meituan")]
    got = [{k: v for k, v in form.items() if k not in system} for form in by_path["/push/meituan/order"]]
    assert sorted(map(orjson.dumps, got)) == sorted(map(orjson.dumps, meituan))
    cancelled = {m["order_id"] for m in meituan if m.get("status") == "9"}
    assert {form["order_id"] for form in by_path.get("/push/meituan/cancel", [])} == cancelled
    # An Eleme envelope is stamped when it is sent (the platform's push time), everything else as landed.
    stamped = ("appId", "signature", "timestamp")
    eleme = [
        {k: v for k, v in orjson.loads(line).items() if k != "timestamp"} for line in _landing_lines(landing, "eleme")
    ]
    got = [{k: v for k, v in env.items() if k not in stamped} for env in by_path["/push/eleme"]]
    assert sorted(map(orjson.dumps, got)) == sorted(map(orjson.dumps, eleme))
    assert all(abs(env["timestamp"] / 1000 - time.time()) < 60 for env in by_path["/push/eleme"])
    assert len(report.acked) == sum(len(_landing_lines(landing, c)) for c in CHANNELS) + len(cancelled)
    assert report.p50 is not None and report.p99 >= report.p50 > 0
    summary = json.loads(report.to_json())
    assert summary["pushes"] == len(report.acked) and summary["acked_per_s"] > 0


def test_an_order_answered_503_is_retried_until_acked(gw, credentials, landing) -> None:
    pushes = _distinct(wire_pushes(landing, load_credentials(credentials), gw.url, channels=("app",)), 3)
    gw.script[pushes[0].order_key] = [503, 503]
    gw.script[pushes[1].order_key] = [429]
    report = _push(gw, credentials, pushes)
    assert sorted(k for _, k in report.acked) == sorted(p.order_key for p in pushes)
    assert gw.hits[pushes[0].order_key] == 3 and gw.hits[pushes[1].order_key] == 2
    assert report.attempts == 6 and not gw.bad_signatures


def test_a_refusal_is_recorded_with_its_code_and_not_retried(gw, credentials, landing) -> None:
    pushes = _distinct(wire_pushes(landing, load_credentials(credentials), gw.url, channels=("app",)), 2)
    gw.script[pushes[0].order_key] = [409]
    report = _push(gw, credentials, pushes)
    assert report.refused == [("app", pushes[0].order_key, "out_of_stock")]
    assert gw.hits[pushes[0].order_key] == 1 and report.acked == [("app", pushes[1].order_key)]


def test_a_gateway_that_stays_down_fails_the_push_after_its_deadline(gw, credentials, landing) -> None:
    push = next(wire_pushes(landing, load_credentials(credentials), gw.url, channels=("meituan",)))
    gw.default_status = 503
    started = time.monotonic()
    report = _push(gw, credentials, [push], deadline_s=0.5)
    assert report.failed == [("meituan", push.order_key, "http_503")] and not report.acked
    assert 0.2 < time.monotonic() - started < 3 and gw.hits[push.order_key] >= 3


def test_no_gateway_at_all_is_a_failure_not_a_crash(credentials, landing) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    push = next(wire_pushes(landing, load_credentials(credentials), dead, channels=("eleme",)))
    report = asyncio.run(push_all([push], dead, concurrency=1, deadline_s=0.3))
    assert len(report.failed) == 1 and report.failed[0][2].startswith("ConnectError")


def test_never_more_requests_in_flight_than_the_concurrency(gw, credentials, landing) -> None:
    pushes = list(wire_pushes(landing, load_credentials(credentials), gw.url, channels=("miniprogram",)))[:24]
    gw.delay_s = 0.05
    report = _push(gw, credentials, pushes, concurrency=4)
    assert len(report.acked) == 24 and gw.max_in_flight == 4


def test_the_rate_paces_the_starts(gw, credentials, landing) -> None:
    pushes = list(wire_pushes(landing, load_credentials(credentials), gw.url, channels=("app",)))[:11]
    started = time.monotonic()
    report = _push(gw, credentials, pushes, rate=50.0)
    assert len(report.acked) == 11 and time.monotonic() - started >= 0.19


@pytest.mark.skipif(not REAL_SAMPLES.is_dir(), reason=f"{REAL_SAMPLES} is absent (../shared beside the checkout)")
def test_meituan_sig_matches_the_sdks_worked_example() -> None:
    """kuangcao/meituanwaimai-sdk OrderServiceImplTest.checkSig: a real test push, its URL, secret and sig."""
    params = json.loads((REAL_SAMPLES / "meituan" / "kuangcao_mtwm-sdk_push_params_checkSig.json").read_text())
    url = "http://is52e.ngrok.natapp.cn/waimai/m/1/meituan/callback.json"
    assert meituan_sig(url, params, "9f9d5562d44dedef5b25a780a08bc0ca") == params["sig"]


def test_eleme_signature_is_the_sdks_sorted_key_value_string() -> None:
    """eleme-openapi-java-sdk CallbackValidationUtil: md5 of k=v in key order, no separators, then the secret."""
    env = {
        "requestId": "r1",
        "type": 10,
        "appId": 42,
        "message": '{"id":"9"}',
        "shopId": 7,
        "timestamp": 5,
        "userId": 3,
    }
    text = 'appId=42message={"id":"9"}requestId=r1shopId=7timestamp=5type=10userId=3s3cret'
    assert eleme_signature(env, "s3cret") == hashlib.md5(text.encode()).hexdigest().upper()


def test_a_line_no_platform_could_post_is_reported_not_sent(tmp_path, credentials) -> None:
    day = tmp_path / "orders" / "meituan" / "2026-11-26"
    day.mkdir(parents=True)
    (day / "meituan-101500-00001.jsonl").write_text('{"order_id": "1", "detail": "[{\n{"order_id": "2"}\n')
    (day / ".meituan-101600-00002.jsonl.tmp").write_text('{"order_id": "3"}\n')
    skipped: list[Unbuildable] = []
    pushes = list(wire_pushes(tmp_path, load_credentials(credentials), "http://x", unbuildable=skipped))
    assert [p.order_key for p in pushes] == ["2"]
    assert [s.source for s in skipped] == ["orders/meituan/2026-11-26/meituan-101500-00001.jsonl:1"]


def test_missing_credentials_are_a_clear_error(tmp_path, landing) -> None:
    (tmp_path / "c.json").write_text('{"app": {"secret": "x"}}')
    with pytest.raises(CredentialsError, match="miniprogram"):
        list(wire_pushes(landing, load_credentials(tmp_path / "c.json"), "http://x", channels=("miniprogram",)))
    with pytest.raises(CredentialsError, match="cannot read"):
        load_credentials(tmp_path / "absent.json")


def test_a_retry_is_signed_afresh(credentials, landing) -> None:
    ticks = iter([1_000.0, 2_000.0])
    push = next(
        wire_pushes(landing, load_credentials(credentials), "http://x", channels=("app",), now=lambda: next(ticks))
    )
    again = push.resign()
    assert isinstance(again, WirePush) and again.body == push.body
    assert (push.headers["X-Orderhub-Timestamp"], again.headers["X-Orderhub-Timestamp"]) == ("1000", "2000")


def test_the_pushed_channels_are_contract_channels() -> None:
    from ingestion.contract import CHANNELS as CONTRACT_CHANNELS
    from simulator.live import CHANNEL_PATHS

    assert set(CHANNEL_PATHS) <= set(CONTRACT_CHANNELS)


def test_the_cli_pushes_a_simulated_day_and_writes_its_report(gw, credentials, tmp_path) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    report = tmp_path / "load.json"
    args = ["simulate", "--live", "--target", gw.url, "--orders", "40", "--seed", "3", "--date", "2026-11-26"]
    args += ["--secrets", str(credentials), "--concurrency", "4", "--report", str(report)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 failed after retries" in result.output and not gw.bad_signatures
    assert json.loads(report.read_text())["pushes"] == len(gw.arrived) > 40


def test_a_gateway_down_for_a_whole_deadline_fails_the_queue_fast_and_the_cli_exits_non_zero(
    credentials, tmp_path
) -> None:
    from typer.testing import CliRunner

    from orchestration.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    args = ["simulate", "--live", "--target", dead, "--orders", "20", "--seed", "3", "--date", "2026-11-26"]
    args += ["--secrets", str(credentials), "--concurrency", "2", "--deadline", "0.3"]
    started = time.monotonic()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert " 0 acked" in result.output and "failed: " in result.output
    # ~50 pushes, two at a time: waiting out 0.3 s each would take about 8 s.
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/push/meituan/order"),
        ("http://Gateway.example:80/", "http://gateway.example/push/meituan/order"),
        ("https://gateway.example:443/intake/", "https://gateway.example/intake/push/meituan/order"),
    ],
)
def test_meituan_signs_the_url_the_gateway_sees(target, url) -> None:
    from simulator.live.wire import push_url

    assert push_url(target, "/push/meituan/order") == url
