"""A real redis-server per test module (Debian's package), on a free loopback port with its own folder."""

from __future__ import annotations

import pytest
import redis

from orchestration.services.redis_server import RedisServer, available


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if not available():
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server) -> redis.Redis:
    """A client on an emptied database: each test starts from nothing."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()
