"""Serving the Dagster UI and the dashboard together until Ctrl-C.

Each server runs in its own session (process group) so that stopping it by PID stops its children
too: a `dagster dev` started with a bare `&` ignores SIGTERM (see DESIGN.md, known traps).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import PROJECT_ROOT


def prepare_dagster_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(PROJECT_ROOT / "config" / "dagster.yaml", config)


def commands(dagster_port: int, dashboard_port: int) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "dagster": [str(bin_dir / "dagster"), "dev", "-m", "orchestration.definitions",
                    "-h", "127.0.0.1", "-p", str(dagster_port)],
        "dashboard": [str(bin_dir / "streamlit"), "run", str(PROJECT_ROOT / "dashboards" / "app.py"),
                      "--server.address", "127.0.0.1", "--server.port", str(dashboard_port),
                      "--server.headless", "true"],
    }


def _stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def _default_signals() -> None:
    """In the child: a parent started in the background (`make demo &`, CI) hands down SIGINT and
    SIGTERM as ignored, and `dagster dev` would then never stop. Restore the defaults."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


def serve(dagster_port: int = 3000, dashboard_port: int = 8501) -> None:
    # `kill PID` stops the servers as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    prepare_dagster_home(Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home"))))
    processes = {
        name: subprocess.Popen(cmd, cwd=PROJECT_ROOT, start_new_session=True, preexec_fn=_default_signals)
        for name, cmd in commands(dagster_port, dashboard_port).items()
    }
    print(f"Dagster UI  http://127.0.0.1:{dagster_port}\nDashboard   http://127.0.0.1:{dashboard_port}\nCtrl-C stops both.")
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
