"""Every channel's push protocol behind one interface: verify and parse a push, and say how to answer it.

Pure functions of the request and the credentials: no I/O, no clock (the caller checks `Push.sent_at`
against its replay window; repeats within it are made harmless by the intake, not refused by `Push.fingerprint`).
Per-channel facts and their sources: push_meituan.py, push_eleme.py, push_own.py, signatures.py and
docs/live-intake-protocols.md.
"""

from __future__ import annotations

from typing import Protocol

from ingestion.gateway.push_eleme import ElemeProtocol
from ingestion.gateway.push_meituan import MeituanProtocol
from ingestion.gateway.push_own import OwnAppProtocol
from ingestion.gateway.wire import (
    Credentials,
    CredentialsError,
    Push,
    PushRejected,
    WireRequest,
    load_credentials,
)


class ChannelProtocol(Protocol):
    channel: str

    def read(self, request: WireRequest, credentials: Credentials) -> Push:
        """Verify the signature, then parse; raises PushRejected (status, code, message)."""
        ...

    def accepted(self) -> tuple[int, dict]:
        """(HTTP status, JSON body) telling the channel we took the push."""
        ...

    def refused(self, code: str, message: str, status: int) -> tuple[int, dict]:
        """(HTTP status, JSON body) for a push we did not take (out_of_stock, rate_limited, bad_signature …)."""
        ...


PROTOCOLS: dict[str, ChannelProtocol] = {
    "app": OwnAppProtocol("app"),
    "miniprogram": OwnAppProtocol("miniprogram"),
    "meituan": MeituanProtocol(),
    "eleme": ElemeProtocol(),
}

__all__ = [
    "PROTOCOLS",
    "ChannelProtocol",
    "Credentials",
    "CredentialsError",
    "Push",
    "PushRejected",
    "WireRequest",
    "load_credentials",
]
