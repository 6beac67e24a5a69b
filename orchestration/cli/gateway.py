"""`orderhub gateway`: the live intake's processes (`api`, `worker`) and `up`, which starts them both (and a
redis-server of our own when none answers at the URL) until Ctrl-C. `make gateway` runs `up`."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from orchestration.services.live_config import REDIS_ENV, SECRETS_ENV, LiveIntakeConfig

gateway_app = typer.Typer(no_args_is_help=True, help="The live intake: channel gateway, reservations, buffer.")

LandingOpt = Annotated[Path, typer.Option(help="landing folder: reference data in, live orders out")]
RedisOpt = Annotated[str | None, typer.Option(help=f"Redis URL (default ${REDIS_ENV} or redis://127.0.0.1:6379/0)")]
SecretsOpt = Annotated[Path | None, typer.Option(help=f"channel credentials JSON (default ${SECRETS_ENV})")]
# Meituan signs the callback URL as configured on its console: behind a proxy the gateway must be told it.
PublicBaseUrlOpt = Annotated[str | None, typer.Option(help="the callback base URL the platforms sign")]


@gateway_app.command()
def api(
    landing: LandingOpt = Path("landing"),
    redis_url: RedisOpt = None,
    secrets: SecretsOpt = None,
    host: str = "127.0.0.1",
    port: int = 8600,
    public_base_url: PublicBaseUrlOpt = None,
) -> None:
    """Answer the channels' pushes (FastAPI under uvicorn)."""
    import uvicorn

    from orchestration.services.live_intake import create_gateway_app

    config = LiveIntakeConfig.from_env(
        landing=landing, redis_url=redis_url, secrets=secrets, public_base_url=public_base_url
    )
    uvicorn.run(create_gateway_app(config), host=host, port=port, log_level="warning", access_log=False)


@gateway_app.command()
def worker(landing: LandingOpt = Path("landing"), redis_url: RedisOpt = None) -> None:
    """Land the intake log as micro-batch files, follow the WMS files, push stock back to the channels."""
    from orchestration.services.live_worker import run_worker

    config = LiveIntakeConfig.from_env(landing=landing, redis_url=redis_url)
    stop = threading.Event()
    try:
        run_worker(config, stop)
    except KeyboardInterrupt:
        stop.set()


@gateway_app.command()
def up(
    landing: LandingOpt = Path("landing"),
    redis_url: RedisOpt = None,
    secrets: SecretsOpt = None,
    redis_dir: Annotated[Path, typer.Option(help="data folder of the redis-server started when none answers")] = Path(
        "redis-data"
    ),
    port: int = 8600,
    public_base_url: PublicBaseUrlOpt = None,
) -> None:
    """Redis (if none answers), the gateway API and its worker, until Ctrl-C."""
    import redis  # here: every `orderhub` command would import it

    from orchestration.cli.serve import supervise
    from orchestration.services.redis_server import RedisServer

    config = LiveIntakeConfig.from_env(
        landing=landing, redis_url=redis_url, secrets=secrets, public_base_url=public_base_url
    )
    if config.secrets is None:
        config = _with_dev_credentials(config, redis_dir)
    server = None
    try:
        redis.Redis.from_url(config.redis_url, socket_timeout=2).ping()
    except redis.ConnectionError:
        port_of_url = redis.Redis.from_url(config.redis_url).connection_pool.connection_kwargs.get("port", 6379)
        server = RedisServer(redis_dir.resolve(), port=int(port_of_url)).start()
        print(f"redis-server on port {server.port}, data in {redis_dir}", flush=True)
    bin_dir = Path(sys.executable).parent
    common = ["--landing", str(config.landing), "--redis-url", config.redis_url]
    commands = {
        "api": [
            str(bin_dir / "orderhub"),
            "gateway",
            "api",
            *common,
            "--secrets",
            str(config.secrets),
            "--port",
            str(port),
            *(["--public-base-url", config.public_base_url] if config.public_base_url else []),
        ],
        "worker": [str(bin_dir / "orderhub"), "gateway", "worker", *common],
    }
    try:
        supervise(
            commands,
            dict(os.environ),
            f"gateway  http://127.0.0.1:{port}/push/<channel>  (health /health, metrics /metrics)\n"
            f"credentials {config.secrets}\nCtrl-C stops it.",
        )
    finally:
        if server is not None:
            server.stop()


def _with_dev_credentials(config: LiveIntakeConfig, folder: Path) -> LiveIntakeConfig:
    """A fresh set of secrets for a local try-out, written once beside the Redis data."""
    import dataclasses

    from orchestration.services.live_stack import write_credentials

    path = folder.resolve() / "gateway-credentials.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_credentials(path)
    return dataclasses.replace(config, secrets=path)
