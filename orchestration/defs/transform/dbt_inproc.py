"""dbt run in this process, its parsed manifest kept for the next invocation.

A dbt subprocess per micro-batch paid, every time, for starting Python and importing dbt, a partial parse of
the project, dagster-dbt's own adapter set-up and `dbt --version`, and for dagster-dbt reading dbt's JSON log
lines back: on a warm 1-day micro-batch about 7 of the dbt step's 11 seconds. Here dbt runs through its
documented programmatic entry point (`dbtRunner`) with a manifest parsed once and kept at module level, so a
long-lived process (`orderhub watch`, `pipeline.Runner`) parses once; a one-off `orderhub run` parses once too,
from the kept `partial_parse.msgpack` as before.

The kept manifest is valid for what it was parsed from: the project's files (their paths, sizes and
modification times under models, macros, tests, seeds, snapshots and analyses, and the project, profile,
package and selector files), the `--vars` string (the rules and the warehouse path) and the profile and target.
Any other value of those parses again and replaces it; one manifest is kept, for the last key.

Dagster sees what it saw from the subprocess: dbt's result events (`EventMsg`) become the dicts its JSON log
lines carry (`msg_to_dict`, which the JSON log format itself uses), and dagster-dbt's own event class turns
those into Outputs, asset check results and observations. The selection comes from dagster-dbt's own builder,
so a subset (the checks job, the micro-batch's critical tests) selects what `DbtCliResource.cli` selected. What
this leaves out of dagster-dbt: the selector file it writes for selections of over 200 resources (a guard
against the length limit of a command line, which an in-process call does not have) and column-level
metadata from dagster-dbt's dbt macros (this project does not use them).

Relies on internals, checked against the installed versions: dagster-dbt 0.29.27 (`asset_utils`,
`DbtCoreCliEventMessage`), dagster 1.13.27 (`raise_interrupts_as`) and dbt-duckdb 1.11 (its connection
manager's environment, closed after each invocation); tests/orchestration/test_dbt_inproc.py fails when one
of them moves.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._utils.interrupts import raise_interrupts_as
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.defs.transform.dbt import PARTIAL_PARSE, OrderhubDbtCli, location_flags, with_warehouse_var

# The events dagster-dbt turns into Dagster events; converting every other event (dbt fires hundreds of debug
# events per build) to a dict would cost more than some models.
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})
SOURCE_FOLDERS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml")


@dataclass
class _Kept:
    key: str = ""
    manifest: Any = None  # dbt.contracts.graph.manifest.Manifest
    parses: int = 0


_KEPT = _Kept()
# Two runs in one process (a test's parallel jobs) must not both parse, nor use a manifest half replaced.
_LOCK = threading.Lock()


def parse_count() -> int:
    """How many times this process has parsed the project (for tests and benchmarks)."""
    return _KEPT.parses


def project_fingerprint(project_dir: Path) -> str:
    """What dbt parses the project from, as paths, sizes and modification times: a few milliseconds for
    the project's files, where hashing their contents would read every one of them every run."""
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        _add_stat(digest, project_dir, project_dir / name)
    for folder in SOURCE_FOLDERS:
        for root, dirs, files in os.walk(project_dir / folder):
            dirs.sort()
            for name in sorted(files):
                _add_stat(digest, project_dir, Path(root) / name)
    return digest.hexdigest()


def _add_stat(digest, project_dir: Path, path: Path) -> None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    digest.update(f"{path.relative_to(project_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())


@dataclass
class DbtRun:
    """One finished in-process dbt invocation: its result events as dagster-dbt's JSON log dicts."""

    command: list[str]
    target_path: Path
    success: bool
    exception: BaseException | None
    events: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def stream(self, context: dg.AssetExecutionContext) -> Iterator[Any]:
        """The Dagster events of what dbt ran, in the order it ran them; then, if dbt failed, the error the
        subprocess path raised (so the step fails after reporting what did run)."""
        manifest, translator, project = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        for raw in self.events:
            message = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
            yield from message.to_default_asset_events(
                manifest=manifest,
                dagster_dbt_translator=translator,
                context=context,
                target_path=self.target_path,
                project=project,
            )
        if isinstance(self.exception, KeyboardInterrupt):
            # dbt stopped its nodes on the signal (as it does for Ctrl-C); the run is interrupted, as Dagster
            # would have marked it had the signal reached its own handler.
            raise DagsterExecutionInterruptedError()
        if self.exception is not None and not isinstance(self.exception, Exception):
            raise self.exception
        if not self.success or self.errors:
            raise DagsterDbtCliRuntimeError(description=self._failure(), metadata={}) from self.exception

    def _failure(self) -> str:
        lines = [f"dbt (in process) `{' '.join(self.command)}` failed."]
        if self.exception is not None:
            lines.append(f"{type(self.exception).__name__}: {self.exception}")
        log = self.target_path / "dbt.log"
        if log.exists():
            lines.append(f"dbt's debug log: {log}")
        if self.errors:
            lines += ["", "Errors parsed from dbt logs:", *self.errors]
        return "\n".join(lines)


def build_args(context: dg.AssetExecutionContext, dbt: OrderhubDbtCli, args: Sequence[str]) -> list[str]:
    """`args` with the warehouse var and the selection of the context's subset, as `DbtCliResource.cli`
    builds them (dagster-dbt's own selection builder), plus the profile and target of the resource."""
    manifest, translator, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
    cleaned, selects, excludes = extract_runtime_selection_from_args(
        with_warehouse_var(args, _warehouse(dbt), dbt.memory_limit)
    )
    tags = context.op.tags
    selection, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=os.getenv(DBT_INDIRECT_SELECTION_ENV),
    )
    if selects:
        selection = ["--select", " ".join(selects), *selection]
    if excludes:
        selection = ["--exclude", " ".join(excludes), *selection]
    indirect = indirect or os.getenv(DBT_INDIRECT_SELECTION_ENV)
    return [
        *cleaned,
        *(["--profile", dbt.profile] if dbt.profile else []),
        *(["--target", dbt.target] if dbt.target else []),
        *selection,
        *(["--indirect-selection", indirect] if indirect else []),
    ]


def invoke(
    context: dg.AssetExecutionContext,
    dbt: OrderhubDbtCli,
    args: Sequence[str],
    *,
    on_result: Callable[[], None] = lambda: None,
) -> DbtRun:
    """Run `dbt <args>` (a command and its flags, no selection: the context's subset adds it) in this
    process with the kept manifest, parsing first when it is missing or stale. `on_result` is called on every
    result event while dbt runs (the fault tests' crash point). Blocks until dbt is done; a SIGINT or
    SIGTERM meanwhile stops dbt as Ctrl-C stops it (it cancels its queries) and the run reports interrupted."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    project_dir = Path(dbt.project_dir)
    target_path = _unique_target_path(project_dir, context)
    command = build_args(context, dbt, args)
    common = _common_flags(dbt, project_dir, target_path)
    run = DbtRun(command=command, target_path=target_path, success=False, exception=None)

    def on_event(msg) -> None:
        # dbt calls this from its worker threads; list.append is atomic.
        if msg.info.name in RESULT_EVENTS:
            event = msg_to_dict(msg)
            if event.get("data", {}).get("node_info"):
                run.events.append(event)
                on_result()
        elif msg.info.level == "error":
            run.errors.append(msg.info.msg)

    with _LOCK:
        manifest = _manifest(dbt, project_dir, target_path, _vars_of(command), common)
        context.log.info(f"Running dbt in process: `dbt {' '.join(command)}`")
        try:
            with raise_interrupts_as(KeyboardInterrupt):
                result = dbtRunner(manifest=manifest, callbacks=[on_event]).invoke([*command, *common])
        finally:
            _release_warehouse()
    run.success, run.exception = result.success, result.exception
    return run


def _manifest(dbt: OrderhubDbtCli, project_dir: Path, target_path: Path, dbt_vars: str, common: list[str]):
    """The kept manifest when its key still holds, else a fresh parse (into this invocation's target folder,
    seeded with the project's kept parse state, so a partial parse does what it can)."""
    from dbt.cli.main import dbtRunner

    key = hashlib.sha256(
        "\0".join(
            [
                str(project_dir.resolve()),
                dbt_vars,
                dbt.profile or "",
                dbt.target or "",
                project_fingerprint(project_dir),
            ]
        ).encode()
    ).hexdigest()
    if _KEPT.manifest is not None and _KEPT.key == key:
        return _KEPT.manifest
    seed = project_dir / "target" / PARTIAL_PARSE
    if seed.exists():
        target_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(seed, target_path / PARTIAL_PARSE)
    profile = [*(["--profile", dbt.profile] if dbt.profile else []), *(["--target", dbt.target] if dbt.target else [])]
    parsed = dbtRunner().invoke(["parse", "--vars", dbt_vars, *profile, *common])
    if parsed.exception is not None and not isinstance(parsed.exception, Exception):
        raise parsed.exception  # interrupted (dbt hands every exception back, Dagster's interrupt included)
    if not parsed.success:
        raise DagsterDbtCliRuntimeError(
            description=f"dbt could not parse {project_dir}: {parsed.exception}", metadata={}
        ) from parsed.exception
    _KEPT.key, _KEPT.manifest = key, parsed.result
    _KEPT.parses += 1
    return parsed.result


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb opened. It keeps it open between invocations (its `keep_open`,
    true by default in 1.11) and so holds the file's write lock: the dashboard and `orderhub` commands in
    other processes could not open it, and this process's own read-only ATTACH (the snapshot) conflicts with
    it. The next invocation opens it again (a few milliseconds)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()


def _common_flags(dbt: OrderhubDbtCli, project_dir: Path, target_path: Path) -> list[str]:
    profiles_dir = Path(dbt.profiles_dir) if dbt.profiles_dir else project_dir
    return [*location_flags(project_dir, profiles_dir, target_path, target_path), "--no-send-anonymous-usage-stats"]


def _vars_of(command: list[str]) -> str:
    return command[command.index("--vars") + 1]


def _warehouse(dbt: OrderhubDbtCli) -> str:
    # profiles.yml resolves a relative path from the working directory, which in this process is not the
    # project folder the subprocess ran in; the Warehouse resource resolves it from here too.
    return str(Path(dbt.warehouse).resolve())


def _unique_target_path(project_dir: Path, context: dg.AssetExecutionContext) -> Path:
    """The invocation's own target folder (run_results.json, dbt.log), named as dagster-dbt names it."""
    name = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-{str(uuid.uuid4())[:7]}"
    return project_dir / "target" / name
