"""Named crash points for fault-injection tests.

A test sets ORDERHUB_CRASH_AT=<point> in a child process; when the pipeline reaches that point the
process kills itself with SIGKILL, exactly like an OOM kill or a pulled plug: no cleanup, no finally.
Unset (always, in production) it costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "ORDERHUB_CRASH_AT"

POINTS = (
    "ingest.after_read",  # landing files read and parsed, nothing written yet
    "ingest.before_commit",  # raw rows inserted inside the open transaction
    "serving.before_replace",  # snapshot written to its temporary file, not yet moved into place
)


def crash_point(name: str) -> None:
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; known: {', '.join(POINTS)}")
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
