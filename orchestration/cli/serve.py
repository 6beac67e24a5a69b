"""`orderhub serve`: the Dagster UI and the dashboard together until Ctrl-C.

Each server runs in its own session (process group) so that stopping it by PID stops its children
too: a `dagster dev` started with a bare `&` ignores SIGTERM (see DESIGN.md, known traps).

The servers are separate processes that build their own settings from the environment: they get this
command's settings through their `env=`, never through this process's `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from orchestration.cli.options import DEFAULT_WAREHOUSE, WAREHOUSE
from orchestration.settings import PROJECT_ROOT, Settings


def serve(
    landing: Annotated[Path, typer.Option(help="landing folder the sensor watches", envvar="ORDERHUB_LANDING")] = Path(
        "landing"
    ),
    warehouse: WAREHOUSE = DEFAULT_WAREHOUSE,
    dagster_port: Annotated[int, typer.Option(help="Dagster UI port")] = 3000,
    dashboard_port: Annotated[int, typer.Option(help="dashboard port")] = 8501,
) -> None:
    """Serve the Dagster UI (with the landing sensor on) and the dashboard until Ctrl-C."""
    serve_both(Settings.from_env(landing=landing, warehouse=warehouse), dagster_port, dashboard_port)


def commands(dagster_port: int, dashboard_port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "dagster": [
            str(bin_dir / "dagster"),
            "dev",
            "-m",
            "orchestration.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(dagster_port),
        ],
        "dashboard": [
            str(bin_dir / "streamlit"),
            "run",
            str(PROJECT_ROOT / "dashboards" / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(dashboard_port),
            "--server.headless",
            "true",
        ],
    }


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def _default_signals() -> None:
    """In the child: a parent started in the background (`make demo &`, CI) hands down SIGINT and
    SIGTERM as ignored, and `dagster dev` would then never stop. Restore the defaults."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def serve_both(settings: Settings, dagster_port: int = 3000, dashboard_port: int = 8501) -> None:
    if settings.dagster_home is None:
        settings = dataclasses.replace(settings, dagster_home=PROJECT_ROOT / ".dagster_home")
    from orchestration.instance import prepare_dagster_home  # here: every `orderhub` command would import Dagster

    prepare_dagster_home(settings.dagster_home)
    supervise(
        commands(dagster_port, dashboard_port),
        settings.child_env(),
        f"Dagster UI  http://127.0.0.1:{dagster_port}\nDashboard   http://127.0.0.1:{dashboard_port}\nCtrl-C stops both.",
    )


def supervise(commands: dict[str, list[str]], env: dict[str, str], banner: str) -> None:
    """Run the commands, each in a session of its own, until Ctrl-C, SIGTERM or one of them exits."""
    # `kill PID` stops the servers as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    processes = {
        name: subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True, preexec_fn=_default_signals)
        for name, cmd in commands.items()
    }
    print(banner, flush=True)
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(1)
        stopped = [name for name, p in processes.items() if p.poll() is not None]
        print(f"{', '.join(stopped)} exited; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
