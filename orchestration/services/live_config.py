"""Where the live intake finds Redis, the landing zone, its rules and the channels' credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration import rules as rules_file

SECRETS_ENV = "ORDERHUB_GATEWAY_SECRETS"
REDIS_ENV = "ORDERHUB_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class LiveIntakeConfig:
    redis_url: str
    landing: Path
    rules: Path
    secrets: Path | None
    namespace: str = "oh"
    public_base_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: Any) -> LiveIntakeConfig:
        from orchestration.settings import Settings

        env = os.environ if env is None else env
        settings = Settings.from_env(env, landing=given.pop("landing", None))
        secrets = given.pop("secrets", None) or env.get(SECRETS_ENV)
        return cls(
            redis_url=given.pop("redis_url", None) or env.get(REDIS_ENV, DEFAULT_REDIS_URL),
            landing=settings.landing,
            rules=settings.rules,
            secrets=Path(secrets) if secrets else None,
            **{k: v for k, v in given.items() if v is not None},
        )

    def gateway_rules(self) -> dict[str, Any]:
        return rules_file.load(self.rules).get("gateway") or {}
