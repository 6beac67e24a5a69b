"""The server the live tests rely on keeps what it acknowledged through a SIGKILL."""

import redis


def test_an_acknowledged_write_survives_a_kill(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    client.set("acknowledged", "yes")
    redis_server.kill()
    redis_server.start()
    assert redis.Redis.from_url(redis_server.url).get("acknowledged") == b"yes"
