"""Landing records turned back into the HTTP pushes the channels would have sent (docs/live-intake-load.md).

A landing line is what the receiver keeps of a push, so each push is built to decode back to that line:
app and mini-program post the line itself; Meituan posts the line's fields as a form (plus its system
parameters); Eleme posts the envelope (plus appId and signature).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from .signing import Credentials, eleme_signature, meituan_sig, orderhub_signature

CHANNEL_PATHS = {
    "app": "/push/app",
    "miniprogram": "/push/miniprogram",
    "meituan": "/push/meituan/order",
    "eleme": "/push/eleme",
}
MEITUAN_CANCEL_PATH = "/push/meituan/cancel"
MEITUAN_CANCELLED = "9"
# Meituan's cancel push carries a reason code; no public list of the codes was found, so the simulator
# sends one fixed code and a plain reason, and nothing downstream should read meaning into the code.
MEITUAN_CANCEL_REASON = ("0", "用户取消订单")
_MEITUAN_SYSTEM_PARAMS = ("app_id", "timestamp", "sig")
_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_JSON = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class WirePush:
    channel: str
    path: str
    order_key: str
    headers: dict
    body: bytes
    source: str = ""  # file:line of the landing record
    # Builds the same push with a fresh timestamp and signature, for a retry long after the first try.
    resign: Callable[[], WirePush] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Unbuildable:
    """A landing line no channel could have posted (e.g. a Meituan form cut mid-JSON): never sent, reported."""

    channel: str
    source: str
    reason: str


def wire_pushes(
    landing_root: Path,
    credentials: Credentials,
    target: str,
    channels: Iterable[str] = ("app", "miniprogram", "meituan", "eleme"),
    now: Callable[[], float] = time.time,
    unbuildable: list[Unbuildable] | None = None,
) -> Iterator[WirePush]:
    """Every order record of the channels under landing_root/orders, in write order, as signed pushes.

    Lazy: a push is built and signed when it is asked for, so its timestamp is that of its sending. Lines
    that cannot become a push are appended to `unbuildable` (never silently dropped).
    """
    skipped = unbuildable if unbuildable is not None else []
    for channel, path in order_files(Path(landing_root), channels):
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue
                source = f"{path.relative_to(landing_root)}:{number}"
                try:
                    yield from _pushes_for(channel, line, source, credentials, target, now)
                except WireError as exc:
                    skipped.append(Unbuildable(channel, source, str(exc)))


class WireError(ValueError):
    """A landing line that cannot be turned into its channel's push."""


def order_files(landing_root: Path, channels: Iterable[str]) -> list[tuple[str, Path]]:
    """Order files of the channels, interleaved in write order: by day, then by the `HHMMSS-seq` of the name."""
    found = []
    for channel in channels:
        if channel not in CHANNEL_PATHS:
            raise ValueError(f"no live push for channel {channel!r} (known: {', '.join(CHANNEL_PATHS)})")
        base = landing_root / "orders" / channel
        if not base.is_dir():
            continue
        for day in sorted(d for d in base.iterdir() if d.is_dir() and _visible(d.name)):
            for path in day.iterdir():
                if path.is_file() and _visible(path.name):
                    found.append(((day.name, path.name.partition("-")[2], channel), channel, path))
    return [(channel, path) for _, channel, path in sorted(found)]


def push_url(target: str, path: str) -> str:
    """The URL a push is sent to, as the receiving server sees it: Meituan's `sig` covers it.

    The host is lower-cased and a default port dropped, as HTTP clients do in the Host header.
    """
    parts = urlsplit(target.rstrip("/"))
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if parts.port and (parts.scheme, parts.port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path + path, "", ""))


def _visible(name: str) -> bool:
    # The landing layout's rule: dot-files and `_` folders are not data, `.tmp` files are still being written.
    return not (name.startswith((".", "_")) or name.endswith(".tmp"))


def _pushes_for(channel, line, source, credentials, target, now) -> Iterator[WirePush]:
    if channel in ("app", "miniprogram"):
        yield _ours(channel, line, source, credentials.secret(channel), now)
    elif channel == "meituan":
        fields = _meituan_fields(line)
        yield _meituan(CHANNEL_PATHS["meituan"], fields, source, credentials, target, now)
        if fields.get("status") == MEITUAN_CANCELLED:
            code, reason = MEITUAN_CANCEL_REASON
            cancel = {"order_id": fields.get("order_id", ""), "reason_code": code, "reason": reason}
            yield _meituan(MEITUAN_CANCEL_PATH, cancel, source, credentials, target, now)
    else:
        yield _eleme(line, source, credentials, now)


def _ours(channel: str, line: bytes, source: str, secret: str, now) -> WirePush:
    try:
        key = str(orjson.loads(line).get("order_no") or source)
    except (orjson.JSONDecodeError, AttributeError):
        key = source  # a broken line is still pushed as is: refusing it is the gateway's job

    def build() -> WirePush:
        ts = int(now())
        headers = {
            **_JSON,
            "X-Orderhub-Timestamp": str(ts),
            "X-Orderhub-Signature": orderhub_signature(secret, ts, line),
        }
        return WirePush(channel, CHANNEL_PATHS[channel], key, headers, line, source, build)

    return build()


def _meituan_fields(line: bytes) -> dict[str, str]:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"not a JSON object of form fields: {exc}") from exc
    if not isinstance(record, dict):
        raise WireError("not a JSON object of form fields")
    return {k: _form_text(v) for k, v in record.items() if k not in _MEITUAN_SYSTEM_PARAMS}


def _form_text(value: object) -> str:
    # The open-platform push posts strings only; a typed value (the ERP dialect) is posted as its text.
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return orjson.dumps(value).decode()


def _meituan(path: str, fields: dict[str, str], source: str, credentials, target, now) -> WirePush:
    url = push_url(target, path)
    app_id, secret = credentials.app_id("meituan"), credentials.secret("meituan")
    key = fields.get("order_id") or source

    def build() -> WirePush:
        params = {**fields, "app_id": app_id, "timestamp": str(int(now()))}
        params["sig"] = meituan_sig(url, params, secret)
        return WirePush("meituan", path, key, dict(_FORM), urlencode(params).encode(), source, build)

    return build()


def _eleme(line: bytes, source: str, credentials: Credentials, now) -> WirePush:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"not a JSON push envelope: {exc}") from exc
    if not isinstance(record, dict):
        raise WireError("not a JSON push envelope")
    envelope = record if "message" in record else _envelope_for(record, line, now)
    app_id = credentials.app_id("eleme")
    key = str(envelope.get("orderId") or _message_id(envelope.get("message")) or source)

    def build() -> WirePush:
        # The envelope's timestamp is when Eleme sends the push (its receiver checks it against its clock), so
        # a push sent now carries now, whatever day the simulated order belongs to.
        signed = {k: v for k, v in envelope.items() if k != "signature"}
        signed["timestamp"] = int(now() * 1000)
        signed["appId"] = int(app_id) if app_id.isdigit() else app_id
        signed["signature"] = eleme_signature(signed, credentials.secret("eleme"))
        return WirePush("eleme", CHANNEL_PATHS["eleme"], key, dict(_JSON), orjson.dumps(signed), source, build)

    return build()


def _envelope_for(order: dict, line: bytes, now) -> dict:
    # A bare OOrder line: wrap it as Eleme would have, a type-10 (new order) push of that message.
    order_id = str(order.get("id") or order.get("orderId") or "")
    if not order_id:
        raise WireError("neither a push envelope nor an order with an id")
    return {
        "requestId": f"sim-{order_id}",
        "type": 10,
        "message": line.decode("utf-8", errors="replace"),
        "shopId": order.get("shopId") or 0,
        "userId": order.get("userId") or 0,
        "timestamp": int(now() * 1000),
        "orderId": order_id,
    }


def _message_id(message: object) -> str | None:
    try:
        return str(orjson.loads(message).get("id")) if isinstance(message, str) else None
    except (orjson.JSONDecodeError, AttributeError):
        return None
