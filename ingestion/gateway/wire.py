"""What a push looks like on its way in and out of a channel protocol, and the secrets that check it.

A protocol reads a `WireRequest` (the HTTP request as it reached us, reduced to what a signature covers)
into a `Push`, or raises `PushRejected` with the HTTP status and a stable code the gateway answers with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PushKind = Literal["order", "cancel", "ping", "notice"]
CHANNELS = ("app", "miniprogram", "meituan", "eleme")
# The platforms identify the sending application; our own apps share one secret per channel.
NEEDS_APP_ID = frozenset({"meituan", "eleme"})


@dataclass(frozen=True)
class WireRequest:
    url: str  # the public callback URL the channel signed (scheme://host[:port]/path), no query
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-case
    body: bytes = b""
    content_type: str = ""


@dataclass(frozen=True)
class Push:
    channel: str
    # order: a whole order; cancel: a cancel / full refund carrying the order id; ping: the platform checking
    # the callback URL; notice: a verified push we acknowledge and do not act on (status changes, delivery
    # tracking, refund applications, partial refunds). ping and notice are answered `accepted()`, nothing else.
    kind: PushKind
    record: str | None  # kind=order: one line of the channel's landing format
    channel_order_id: str | None
    reason: str | None
    sent_at: float  # epoch seconds, from the push's own signed timestamp (0.0 for an unsigned ping)
    # Identifies this exact signed request, for tracing. Not used to refuse repeats: a platform retrying after a lost
    # reply must hear its answer again, and the intake is idempotent (docs/live-intake-protocols.md).
    fingerprint: str


class PushRejected(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def malformed(message: str) -> PushRejected:
    return PushRejected(400, "malformed", message)


def bad_signature(message: str) -> PushRejected:
    return PushRejected(401, "bad_signature", message)


def missing_signature(message: str) -> PushRejected:
    return PushRejected(401, "missing_signature", message)


def unknown_app(message: str) -> PushRejected:
    return PushRejected(403, "unknown_app", message)


@dataclass(frozen=True)
class Credentials:
    app_id: str | None
    secret: str = field(repr=False)


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message names the file and what is wrong."""


def load_credentials(path: Path) -> dict[str, Credentials]:
    """Every channel's credentials from a JSON file; all four channels must be there, each well-formed."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CredentialsError(f"{path}: credentials file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CredentialsError(f"{path}: cannot read the credentials file ({err})") from None
    except json.JSONDecodeError as err:
        raise CredentialsError(f"{path}: not JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(raw, dict):
        raise CredentialsError(f"{path}: expected a JSON object of channel -> credentials")
    unknown = sorted(set(raw) - set(CHANNELS))
    if unknown:
        raise CredentialsError(f"{path}: unknown channel(s) {', '.join(unknown)}; known: {', '.join(CHANNELS)}")
    missing = [channel for channel in CHANNELS if channel not in raw]
    if missing:
        raise CredentialsError(f"{path}: no credentials for {', '.join(missing)}")
    return {channel: _channel_credentials(path, channel, raw[channel]) for channel in CHANNELS}


def _channel_credentials(path: Path, channel: str, entry: object) -> Credentials:
    if not isinstance(entry, dict):
        raise CredentialsError(f"{path}: {channel}: expected an object with 'secret'")
    secret = entry.get("secret")
    if not isinstance(secret, str) or not secret.strip():
        raise CredentialsError(f"{path}: {channel}: 'secret' must be a non-empty string")
    app_id = entry.get("app_id")
    if channel in NEEDS_APP_ID:
        if isinstance(app_id, int) and not isinstance(app_id, bool):
            app_id = str(app_id)
        if not isinstance(app_id, str) or not app_id.strip():
            raise CredentialsError(f"{path}: {channel}: 'app_id' must be a non-empty string")
        # Eleme's appId is a number in every push envelope (the SDK's `long appId`): a key that is not one
        # would have every push refused as another application's.
        if channel == "eleme" and not app_id.strip().isdigit():
            raise CredentialsError(f"{path}: eleme: 'app_id' must be Eleme's numeric application id, got {app_id!r}")
    elif app_id is not None:
        raise CredentialsError(f"{path}: {channel}: our own apps have no 'app_id' (remove it)")
    return Credentials(app_id=app_id, secret=secret)
