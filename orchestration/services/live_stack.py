"""The whole live intake on one machine, each part a process that can be killed and restarted: a redis-server,
the gateway API (uvicorn) and its worker. The crash tests and the load benchmark drive it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from orchestration.services.redis_server import RedisServer, free_port
from orchestration.settings import PROJECT_ROOT


def write_credentials(path: Path) -> Path:
    """A fresh set of channel credentials (the file format of ORDERHUB_GATEWAY_SECRETS)."""
    path.write_text(
        json.dumps(
            {
                "meituan": {"app_id": "dev-meituan", "secret": secrets.token_hex(16)},
                "eleme": {"app_id": "5230001", "secret": secrets.token_hex(16)},
                "app": {"secret": secrets.token_hex(16)},
                "miniprogram": {"secret": secrets.token_hex(16)},
            }
        )
    )
    path.chmod(0o600)
    return path


@dataclass
class LiveStack:
    workdir: Path
    landing: Path
    rules: Path = PROJECT_ROOT / "config" / "rules.yml"
    api_port: int = field(default_factory=free_port)
    redis: RedisServer | None = None
    api: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def credentials(self) -> Path:
        return self.workdir / "credentials.json"

    def start(self) -> LiveStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.credentials.exists():
            write_credentials(self.credentials)
        self.redis = RedisServer(self.workdir / "redis").start()
        self.start_api()
        self.start_worker()
        return self

    def _env(self) -> dict[str, str]:
        return {**os.environ, "ORDERHUB_RULES": str(self.rules), "PYTHONUNBUFFERED": "1"}

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        command = [sys.executable, "-m", "orchestration.cli", "gateway", *args]
        common = ["--landing", str(self.landing), "--redis-url", self.redis.url]
        return subprocess.Popen(command + common, stdout=log, stderr=log, env=self._env(), start_new_session=True)

    def start_api(self, timeout_s: float = 60) -> None:
        args = ["api", "--secrets", str(self.credentials), "--port", str(self.api_port)]
        self.api = self._spawn("api", args)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.api.poll() is not None:
                raise RuntimeError(f"gateway exited: {(self.workdir / 'api.log').read_text()[-3000:]}")
            try:
                if httpx.get(self.target + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"gateway did not become healthy: {(self.workdir / 'api.log').read_text()[-3000:]}")

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", ["worker"])

    @staticmethod
    def _kill(process: subprocess.Popen | None) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill_api(self) -> None:
        self._kill(self.api)

    def kill_worker(self) -> None:
        self._kill(self.worker)

    def stop(self) -> None:
        for process in (self.api, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._kill(process)
        if self.redis is not None:
            self.redis.stop()

    def __enter__(self) -> LiveStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
