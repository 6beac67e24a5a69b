"""connect(): the DSN forms the platform accepts, the database it creates, the errors it gives."""

from __future__ import annotations

import pytest

from history.client import DEFAULT_DATABASE, DsnError, connect, describe_dsn, parse_dsn


@pytest.mark.parametrize(
    ("dsn", "scheme", "location", "database"),
    [
        ("chdb:///var/ch", "chdb", "/var/ch", DEFAULT_DATABASE),
        ("chdb://data/ch?database=sales", "chdb", "data/ch", "sales"),
        ("http://ch:8123", "http", "ch:8123", DEFAULT_DATABASE),
        ("http://ch:8123/sales", "http", "ch:8123", "sales"),
        ("https://u:secret@ch.example:8443/?database=sales&secure=true", "https", "ch.example:8443", "sales"),
    ],
)
def test_dsn_forms(dsn, scheme, location, database):
    target = parse_dsn(dsn)
    assert (target.scheme, target.location, target.database) == (scheme, location, database)


def test_server_dsn_leaves_the_database_out():
    """The client connects first and creates the database; the database is set on the client after."""
    target = parse_dsn("https://u:pw@ch:8443/sales?secure=true")
    assert target.server_dsn == "https://u:pw@ch:8443?secure=true"


@pytest.mark.parametrize(
    ("dsn", "says"),
    [
        ("", "empty"),
        ("clickhouse://ch:9000", "scheme must be one of"),
        ("ch:8123", "scheme must be one of"),
        ("http:///sales", "no host"),
        ("chdb://", "needs a folder"),
        ("chdb:///x?user=a", "takes only"),
        ("http://ch:8123/sales-eu", "letters, digits"),
    ],
)
def test_bad_dsns_are_refused_with_a_reason(dsn, says):
    with pytest.raises(DsnError, match=says):
        parse_dsn(dsn)


def test_password_never_in_the_message():
    with pytest.raises(DsnError) as caught:
        parse_dsn("http://u:hunter2@ch:8123/bad-name")
    assert "hunter2" not in str(caught.value)


def test_chdb_connect_creates_the_database(tmp_path):
    client = connect(f"chdb://{tmp_path / 'ch'}?database=orderhub_test")
    try:
        assert client.query("SELECT currentDatabase()").result_rows == [("orderhub_test",)]
        client.command("CREATE TABLE t (a Int32) ENGINE = MergeTree ORDER BY a")
        client.command("INSERT INTO t VALUES (1)")
    finally:
        client.close()
    # The data is in the folder: a new client on the same path finds it.
    again = connect(f"chdb://{tmp_path / 'ch'}?database=orderhub_test")
    try:
        assert again.query("SELECT a FROM t").result_rows == [(1,)]
    finally:
        again.close()


def test_child_processes_get_the_dsn_and_lose_an_inherited_one():
    from orchestration.settings import Settings

    with_dsn = Settings.from_env({"ORDERHUB_CLICKHOUSE_DSN": "chdb:///var/ch"})
    assert with_dsn.child_env({})["ORDERHUB_CLICKHOUSE_DSN"] == "chdb:///var/ch"
    # Settings built without a DSN mean no ClickHouse, whatever the parent's environment held.
    without = Settings.from_env({})
    assert "ORDERHUB_CLICKHOUSE_DSN" not in without.child_env({"ORDERHUB_CLICKHOUSE_DSN": "http://old:8123"})


def test_a_relative_chdb_folder_is_made_absolute_once(tmp_path, monkeypatch):
    """Child processes (the Dagster code location, the dashboard) start elsewhere: they get the absolute folder."""
    from orchestration.settings import Settings

    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"ORDERHUB_CLICKHOUSE_DSN": "chdb://store/ch?database=sales"})
    assert settings.clickhouse_dsn == f"chdb://{tmp_path.resolve() / 'store' / 'ch'}?database=sales"
    assert Settings.from_env({"ORDERHUB_CLICKHOUSE_DSN": "http://ch:8123"}).clickhouse_dsn == "http://ch:8123"


def test_a_dsn_is_described_without_its_credentials() -> None:
    assert describe_dsn("http://reader:s3cret@ch.internal:8123/sales") == "http://ch.internal:8123 (sales)"
    assert describe_dsn("chdb:///data/ch", "orderhub_serving") == "chdb:///data/ch (orderhub_serving)"
    assert describe_dsn("ftp://nowhere") == "(DSN not readable)"
