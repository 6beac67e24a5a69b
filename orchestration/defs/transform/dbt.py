"""The dbt project as Dagster sees it, and the dbt CLI as a resource that knows which warehouse it builds.

The warehouse file reaches dbt as the var `orderhub_warehouse` (dbt_project/profiles.yml reads it, falling back
to $ORDERHUB_WAREHOUSE for dbt run by hand): `OrderhubDbtCli` adds it to the vars of every invocation, so no
setting has to be written into this process's environment for the dbt subprocess to see it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject
from filelock import FileLock

from ingestion.warehouse import DEFAULT_MEMORY_LIMIT
from orchestration.rules import dbt_vars
from orchestration.settings import Settings


def _sources_newer_than(manifest: Path, project_dir: Path) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    watched = [
        project_dir / "dbt_project.yml",
        *project_dir.glob("models/**/*"),
        *project_dir.glob("macros/**/*"),
        *project_dir.glob("tests/**/*"),
    ]
    return any(p.is_file() and p.stat().st_mtime > built for p in watched)


def dbt_project(settings: Settings) -> DbtProject:
    project = DbtProject(project_dir=settings.dbt_project)
    # A fresh clone has no manifest, and an edited model makes it stale: parse before Dagster loads it.
    # Several processes load the definitions at once (the webserver and its run workers, parallel test
    # workers): one parses while the others wait, so none reads a manifest another is still writing.
    # The lock is taken even to read: a manifest being written already has a fresh modification time.
    project.manifest_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(project.manifest_path.parent / ".parse.lock")):
        if _sources_newer_than(project.manifest_path, settings.dbt_project):
            dbt_resource(project, settings).cli(
                ["parse", "--quiet", "--vars", dbt_vars(settings.rules)],
                manifest={},
                target_path=project.manifest_path.parent,
            ).wait()
    return project


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(run_target: Path, project: DbtProject) -> None:
    """Keep a finished invocation's parse state as the project's, for the next invocation to start from.

    dagster-dbt gives every invocation its own target folder, seeded with the project's
    partial_parse.msgpack. dbt re-parses the whole project (seconds) when the seed was written for other vars
    or another profile, which includes the warehouse path; the seed written by `dbt parse` above often is
    (another warehouse, another process). The run's own state matches the next run on the same warehouse.
    Replaced atomically: parallel processes each read a whole file (dbt checks it and re-parses on a mismatch).
    """
    state = Path(run_target) / PARTIAL_PARSE
    if not state.exists():
        return
    kept = project.manifest_path.parent / PARTIAL_PARSE
    staging = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(state, staging)
    os.replace(staging, kept)


# The run folders kept under target/ (run_results.json, dbt.log, compiled SQL: what to read after a failed
# run). A day of micro-batches in `orderhub watch` writes a thousand of them; folders older than a day beyond
# the newest RUN_TARGETS_KEPT go, never a recent one (another process may be running in it).
RUN_TARGETS_KEPT = 50
RUN_TARGET_MAX_AGE_SECONDS = 24 * 3600


def prune_run_targets(target_dir: Path, prefix: str) -> int:
    """Remove old invocation folders `<prefix>*` under `target_dir`; returns how many went."""
    now = time.time()
    folders = sorted(
        (p for p in Path(target_dir).glob(f"{prefix}*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    removed = 0
    for folder in folders[RUN_TARGETS_KEPT:]:
        if now - folder.stat().st_mtime > RUN_TARGET_MAX_AGE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def location_flags(project_dir: Path, profiles_dir: Path, target_path: Path, log_path: Path) -> list[str]:
    """Where a dbt invocation finds the project and profile and writes its target and logs: the same four flags
    for the pipeline's in-process runs, the dbt tests' harness and the benches."""
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
    ]


# dbt is installed in the same environment as orderhub, which need not be on PATH (make runs .venv/bin/…).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


WAREHOUSE_VAR = "orderhub_warehouse"
MEMORY_LIMIT_VAR = "orderhub_memory_limit"


class OrderhubDbtCli(DbtCliResource):
    """dbt, building the warehouse at `warehouse` with DuckDB held to `memory_limit`: both are merged into the
    invocation's --vars (added when the invocation has none)."""

    warehouse: str
    memory_limit: str = DEFAULT_MEMORY_LIMIT

    def cli(self, args: Sequence[str], **kwargs):
        return super().cli(with_warehouse_var(args, self.warehouse, self.memory_limit), **kwargs)


def with_warehouse_var(args: Sequence[str], warehouse: str, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> list[str]:
    """`args` with the warehouse's vars (dbt_project/profiles.yml reads them): its file and DuckDB's memory limit."""
    args = list(args)
    ours = {WAREHOUSE_VAR: warehouse, MEMORY_LIMIT_VAR: memory_limit}
    if "--vars" in args:
        at = args.index("--vars") + 1
        args[at] = json.dumps({**json.loads(args[at]), **ours}, ensure_ascii=False)
    else:
        args += ["--vars", json.dumps(ours, ensure_ascii=False)]
    return args


def dbt_resource(project: DbtProject, settings: Settings) -> OrderhubDbtCli:
    return OrderhubDbtCli(
        project_dir=project,
        dbt_executable=DBT_EXECUTABLE,
        warehouse=str(settings.warehouse),
        memory_limit=settings.duckdb_memory_limit,
    )


class FolderGroups(DagsterDbtTranslator):
    """Groups the dbt assets as the project's folders are: staging, intermediate_<domain>, marts_<domain>."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") != "model":
            return super().get_group_name(dbt_resource_props)
        return "_".join(dbt_resource_props["fqn"][1:-1])
