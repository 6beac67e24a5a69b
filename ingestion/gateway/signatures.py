"""How each channel signs a push, both ways: the digest a receiver checks and the signer tests push with.

The exact strings hashed, with worked examples, are in docs/live-intake-protocols.md.

- Meituan (外卖/闪购开放平台): `sig` = lower-case hex md5 of
  `<callback URL> + "?" + "&".join(f"{k}={v}" for every parameter but sig, sorted by name) + <app secret>`,
  over the decoded values, empty values included, `app_id` and `timestamp` included.
  Sources: kuangcao/meituanwaimai-sdk @ 93ff8f2fe883a8e0e3c48cbac981344ca911078b,
  `src/main/java/com/jiabangou/mtwmsdk/utils/MtWmUtils.java` (`sigCheck`, the receiving side) with its test
  vector in `src/test/java/comjiabangou/mtwmsdk/api/impl/OrderServiceImplTest.java` (`checkSig`);
  easynet-cn/go-meituan @ c098480852ce03da03c46652681baf98dadbb405, `utility.go` (`Sign`, the same string).
- Eleme (饿了么开放平台): `signature` = upper-case hex md5 of the envelope fields
  appId, message, requestId, shopId, timestamp, type, userId written `k=v` in name order with no separator,
  then the app secret. Source: dllen/eleme-openapi-java-sdk @ 8f7ef6c0d9b8c49c7eebcf2f4b4e259303fcaa5d,
  `src/main/java/eleme/openapi/sdk/api/utils/CallbackValidationUtil.java`.
- app / miniprogram (ours): `X-Orderhub-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`,
  the timestamped payload of Stripe (https://docs.stripe.com/webhooks#verify-manually) in the header form of
  GitHub (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlencode

MEITUAN_SYSTEM = ("app_id", "timestamp", "sig")
ELEME_SIGNED = ("appId", "message", "requestId", "shopId", "timestamp", "type", "userId")
OWN_PREFIX = "sha256="


def matches(given: str, expected: str) -> bool:
    """Constant-time equality of two signatures (hex digests compare case-insensitively)."""
    return hmac.compare_digest(given.strip().lower().encode("utf-8"), expected.lower().encode("utf-8"))


# --- Meituan -------------------------------------------------------------------------------------------


def meituan_base_string(url: str, params: Mapping[str, str], secret: str) -> str:
    """The exact text Meituan hashes: URL, "?", sorted k=v joined by "&", secret (sig itself left out)."""
    pairs = "&".join(f"{key}={params[key]}" for key in sorted(params) if key != "sig")
    return f"{url}?{pairs}{secret}"


def meituan_sig(url: str, params: Mapping[str, str], secret: str) -> str:
    return hashlib.md5(meituan_base_string(url, params, secret).encode("utf-8")).hexdigest()


def sign_meituan(url: str, fields: Mapping[str, str], app_id: str, secret: str, timestamp: int) -> dict[str, str]:
    """Every parameter of a signed Meituan push: the business fields, app_id, timestamp and sig."""
    params = {**{k: str(v) for k, v in fields.items()}, "app_id": str(app_id), "timestamp": str(int(timestamp))}
    params["sig"] = meituan_sig(url, params, secret)
    return params


def meituan_form_body(params: Mapping[str, str]) -> bytes:
    """The push body as Meituan posts it: application/x-www-form-urlencoded, UTF-8."""
    return urlencode(list(params.items())).encode("utf-8")


# --- Eleme ---------------------------------------------------------------------------------------------


def _java_text(value: object) -> str:
    # Java's StringBuilder.append of the SDK's typed fields: int/long as decimal, String as is.
    if isinstance(value, bool):
        raise TypeError("a boolean is not an Eleme envelope field")
    return str(value)


def eleme_base_string(envelope: Mapping[str, object], secret: str) -> str:
    """The exact text Eleme hashes: appId=…message=…requestId=…shopId=…timestamp=…type=…userId=… + secret."""
    return "".join(f"{key}={_java_text(envelope[key])}" for key in sorted(ELEME_SIGNED)) + secret


def eleme_signature(envelope: Mapping[str, object], secret: str) -> str:
    return hashlib.md5(eleme_base_string(envelope, secret).encode("utf-8")).hexdigest().upper()


def sign_eleme(envelope: Mapping[str, object], secret: str) -> dict[str, object]:
    """The envelope with its `signature` (every field of ELEME_SIGNED must be present)."""
    signed = dict(envelope)
    signed["signature"] = eleme_signature(envelope, secret)
    return signed


# --- our app and mini-program --------------------------------------------------------------------------


def own_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Orderhub-Signature value: "sha256=" + hex HMAC-SHA256(secret, b"<timestamp>." + body)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return OWN_PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_own(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers (lower-case names) a signed app / mini-program push carries."""
    return {
        "x-orderhub-timestamp": str(int(timestamp)),
        "x-orderhub-signature": own_signature(secret, int(timestamp), body),
    }
