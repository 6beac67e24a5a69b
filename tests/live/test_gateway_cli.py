"""`orderhub gateway up` passes the public callback URL to the API it starts, as `gateway api` takes it: behind a
proxy, every Meituan signature (which covers the URL) would fail without it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from orchestration.cli import gateway as gateway_cli


def test_up_passes_the_public_base_url_to_the_api(redis_server, tmp_path, monkeypatch):
    started = {}
    monkeypatch.setattr("orchestration.cli.serve.supervise", lambda commands, env, banner: started.update(commands))
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({}))
    args = ["up", "--landing", str(tmp_path), "--redis-url", redis_server.url, "--secrets", str(secrets)]

    result = CliRunner().invoke(gateway_cli.gateway_app, [*args, "--public-base-url", "https://gw.example.com"])
    assert result.exit_code == 0, result.output
    api = started["api"]
    assert api[api.index("--public-base-url") + 1] == "https://gw.example.com"

    started.clear()
    assert CliRunner().invoke(gateway_cli.gateway_app, args).exit_code == 0
    assert "--public-base-url" not in started["api"], "without it the API uses the URL it sees"
