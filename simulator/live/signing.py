"""How each channel signs a push, as the platforms document it (sources in docs/live-intake-load.md).

Kept apart from the wire shapes so that a platform changing its signature rule changes this file only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

# Meituan posts some values URL-encoded twice, so after the form is parsed they still read `%5B%7B…`; the
# signature is over the values decoded once more (kuangcao/meituanwaimai-sdk MtWmUtils.urlDecodeParams,
# whose test push only verifies that way). Every value is decoded: a value that was never encoded
# decodes to itself unless it holds `%xx` or `+`, and both sides decoding the same way is what matters.
MEITUAN_SIG_PARAM = "sig"

# The fields of an Eleme push that its signature covers (eleme-openapi-java-sdk CallbackValidationUtil):
# every field of the envelope but `signature` itself.
ELEME_SIGNED_FIELDS = ("appId", "message", "requestId", "shopId", "timestamp", "type", "userId")
_ELEME_TEXT_FIELDS = frozenset({"message", "requestId"})


def meituan_sig(url: str, params: Mapping[str, str], secret: str) -> str:
    """Meituan's push signature: md5 of `url?k1=v1&k2=v2…` (the k=v pairs sorted, `sig` left out) + secret.

    `url` is the push URL as registered with Meituan, without its query string.
    """
    pairs = sorted(f"{k}={unquote_plus(v)}" for k, v in params.items() if k != MEITUAN_SIG_PARAM)
    return hashlib.md5(f"{url}?{'&'.join(pairs)}{secret}".encode()).hexdigest()


def eleme_signature(envelope: Mapping[str, object], secret: str) -> str:
    """Eleme's push signature: upper-case md5 of `k1=v1k2=v2…` + secret over the signed fields in key order.

    Values are written as Java prints them: numbers as integers, `message` as the raw JSON text.
    """
    base = "".join(f"{k}={_java_text(k, envelope.get(k))}" for k in sorted(ELEME_SIGNED_FIELDS))
    return hashlib.md5(f"{base}{secret}".encode()).hexdigest().upper()


def orderhub_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Our own channels' push header value: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _java_text(field: str, value: object) -> str:
    # The SDK reads the envelope into an OMessage and appends its fields to a string: its numbers are
    # int/long primitives (a missing one is 0), its texts Strings (a missing one prints "null").
    if value is None:
        return "null" if field in _ELEME_TEXT_FIELDS else "0"
    return str(value)


@dataclass(frozen=True)
class Credentials:
    """What each channel signs with: `{"meituan": {"app_id", "secret"}, "eleme": {…}, "app": {"secret"}, …}`."""

    by_channel: Mapping[str, Mapping[str, str]]

    def secret(self, channel: str) -> str:
        try:
            return str(self.by_channel[channel]["secret"])
        except KeyError as exc:
            raise CredentialsError(f"no secret for channel {channel!r} in the credentials") from exc

    def app_id(self, channel: str) -> str:
        try:
            return str(self.by_channel[channel]["app_id"])
        except KeyError as exc:
            raise CredentialsError(f"no app_id for channel {channel!r} in the credentials") from exc

    def check(self, channels) -> None:
        """Fail now, not mid-run, when a channel lacks what it signs with."""
        for channel in channels:
            self.secret(channel)
            if channel in _CHANNELS_WITH_APP_ID:
                self.app_id(channel)


_CHANNELS_WITH_APP_ID = frozenset({"meituan", "eleme"})


class CredentialsError(ValueError):
    """The credentials file is missing, unreadable or lacks what a channel signs with."""


def load_credentials(path: Path) -> Credentials:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"cannot read credentials from {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CredentialsError(f"{path}: expected {{channel: {{app_id?, secret}}}}")
    return Credentials(data)


def write_dev_credentials(path: Path) -> Credentials:
    """Fresh random credentials for a test or a demo, written where a gateway can read them too."""
    data = {
        "meituan": {"app_id": str(secrets.randbelow(9000) + 1000), "secret": secrets.token_hex(16)},
        "eleme": {"app_id": str(secrets.randbelow(90_000_000) + 10_000_000), "secret": secrets.token_hex(20)},
        "app": {"secret": secrets.token_hex(32)},
        "miniprogram": {"secret": secrets.token_hex(32)},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)
    return Credentials(data)
