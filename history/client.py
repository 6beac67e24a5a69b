"""One way to reach the ClickHouse store: `connect(dsn)` for a server (`http(s)://…`) or the in-process engine
(`chdb://PATH`), the same clickhouse-connect client surface either way.

The database is `orderhub` unless the DSN names one (`http://host:8123/sales`, `chdb:///data/ch?database=sales`)
and is created when missing: the platform owns its schema, nobody has to prepare the server first.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

DEFAULT_DATABASE = "orderhub"
SCHEMES = ("http", "https", "chdb")
# A database name goes into DDL unquoted by the other modules: refuse anything that would need quoting.
_DATABASE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DsnError(ValueError):
    """A ClickHouse DSN this platform cannot use; the message says what was wrong and what is accepted."""


def connect(dsn: str) -> Client:
    """A client on the DSN's database, created if missing. Raises DsnError for a DSN it cannot read."""
    target = parse_dsn(dsn)
    if target.scheme == "chdb":
        # The path is the engine's data folder, not a database: clickhouse-connect's own chdb:// parsing reads
        # `chdb://a/b` as folder `a`, database `b`, which would put a relative folder somewhere surprising.
        client = clickhouse_connect.get_client(interface="chdb", path=target.location)
    else:
        client = clickhouse_connect.get_client(dsn=target.server_dsn)
    try:
        client.command(f"CREATE DATABASE IF NOT EXISTS {target.database}")
        client.database = target.database
    except Exception:
        client.close()
        raise
    return client


class Target:
    """A DSN taken apart: scheme, where the server or engine is, and the database."""

    def __init__(self, scheme: str, location: str, database: str, server_dsn: str) -> None:
        self.scheme = scheme
        self.location = location
        self.database = database
        self.server_dsn = server_dsn

    def __repr__(self) -> str:
        return f"Target({self.scheme!r}, {self.location!r}, database={self.database!r})"


def parse_dsn(dsn: str) -> Target:
    if not dsn or not dsn.strip():
        raise DsnError("empty ClickHouse DSN: expected http(s)://host:port[/database] or chdb://PATH")
    dsn = dsn.strip()
    scheme, sep, rest = dsn.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in SCHEMES:
        raise DsnError(
            f"ClickHouse DSN {_redact(dsn)!r}: scheme must be one of {', '.join(SCHEMES)} "
            "(http(s)://host:port[/database], chdb://PATH[?database=NAME])"
        )
    if scheme == "chdb":
        location, _, query = rest.partition("?")
        params = dict(parse_qsl(query))
        database = params.pop("database", "") or DEFAULT_DATABASE
        if params:
            raise DsnError(f"ClickHouse DSN {dsn!r}: chdb:// takes only ?database=NAME, not {sorted(params)}")
        if not location:
            raise DsnError(f"ClickHouse DSN {dsn!r}: chdb:// needs a folder for the engine's data (chdb:///abs/path)")
        return Target("chdb", location, _database(database, dsn), dsn)
    parts = urlsplit(dsn)
    if not parts.hostname:
        raise DsnError(f"ClickHouse DSN {_redact(dsn)!r}: no host (expected {scheme}://host:port[/database])")
    path_db = parts.path.strip("/")
    query = dict(parse_qsl(parts.query))
    database = path_db or query.pop("database", "") or DEFAULT_DATABASE
    query.pop("database", None)
    # The client connects without a database so a missing one can be created before it is used.
    server_dsn = urlunsplit((parts.scheme, parts.netloc, "", urlencode(query), ""))
    return Target(scheme, parts.netloc.rpartition("@")[2], _database(database, dsn), server_dsn)


def _database(name: str, dsn: str) -> str:
    if not _DATABASE_NAME.match(name):
        raise DsnError(f"ClickHouse DSN {_redact(dsn)!r}: database name {name!r} must be letters, digits and _")
    return name


def describe_dsn(dsn: str, database: str | None = None) -> str:
    """Where a DSN points, without credentials, for messages and pages: `scheme://host:port` (or the chdb
    folder) and the database (`database` names another one than the DSN's, such as the serving copy's)."""
    try:
        target = parse_dsn(dsn)
    except DsnError:
        return "(DSN not readable)"
    return f"{target.scheme}://{target.location} ({database or target.database})"


def _redact(dsn: str) -> str:
    """The DSN without its password, for error messages that end up in logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# chdb: another process has the engine's folder open (the engine locks it); that process lets go within a sync, a
# publish or a dashboard read, so it is worth waiting for. Any other error is not.
_FOLDER_BUSY = "Error initializing EmbeddedServer"


def connect_when_free(dsn: str, wait_seconds: float = 10.0) -> Client:
    """:func:`connect`, retried for up to ``wait_seconds`` while a ``chdb://`` folder is held by another process
    (the pipeline and the dashboards take turns on it); a server DSN never waits."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(dsn)
        except Exception as exc:
            if _FOLDER_BUSY not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(0.1)
