"""The channels, live: a stream of small landing files (stream.py), and the same orders pushed at a gateway
over HTTP, signed as each platform signs them (signing.py, wire.py, client.py)."""

from typing import TYPE_CHECKING

from .signing import Credentials, CredentialsError, load_credentials, write_dev_credentials
from .stream import LiveStats, run_live
from .wire import CHANNEL_PATHS, Unbuildable, WirePush, wire_pushes

if TYPE_CHECKING:
    from .client import LoadReport, push_all, ramp


def __getattr__(name: str):
    # The HTTP client (httpx) loads only for pushing: writing a day or a file stream needs none of it.
    if name in ("LoadReport", "push_all", "ramp"):
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHANNEL_PATHS",
    "Credentials",
    "CredentialsError",
    "LiveStats",
    "LoadReport",
    "Unbuildable",
    "WirePush",
    "load_credentials",
    "push_all",
    "ramp",
    "run_live",
    "wire_pushes",
    "write_dev_credentials",
]
