"""Named crash and failure points for fault-injection tests.

A test sets ORDERHUB_CRASH_AT=<point> in a child process; when the pipeline reaches that point the
process kills itself with SIGKILL, exactly like an OOM kill or a pulled plug: no cleanup, no finally.
ORDERHUB_FAIL_AT=<point> instead raises InjectedFailure there: a step that fails the ordinary way (a solver
error, bad data), which the orchestrator has to survive. Unset (always, in production) each costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

CRASH_ENV = "ORDERHUB_CRASH_AT"
FAIL_ENV = "ORDERHUB_FAIL_AT"

POINTS = (
    "intake.between_ids_and_file",  # the buffer consumer wrote a file's id list, not yet the file itself
    "intake.after_first_file",  # the buffer consumer renamed one landing file into place, not yet acked
    "intake.before_ack",  # every landing file of a drain in place, the entries not yet acked
    "ingest.during_read",  # the first landing file read, the others not yet
    "ingest.after_read",  # landing files read and parsed, nothing written yet
    "ingest.during_write",  # orders and their lines inserted, settlements / quarantine / checkpoint not yet
    "ingest.before_commit",  # raw rows inserted inside the open transaction
    "ingest.between_commits",  # the batch's first commit group committed with its checkpoint, the next not begun
    "dbt.during",  # dbt build running: its first result streamed back, the rest not built yet
    "serving.during_write",  # the first table copied into the snapshot's temporary file
    "serving.before_replace",  # snapshot written to its temporary file, not yet moved into place
)


# Where a step can be made to fail with an ordinary exception.
FAIL_POINTS = (
    "dispatch.plan",  # the dispatch asset, after reading its inputs and before writing a plan
)


class InjectedFailure(RuntimeError):
    pass


def fail_point(name: str) -> None:
    """Raise InjectedFailure at `name` when the environment asks for it."""
    if name not in FAIL_POINTS:
        raise ValueError(f"unknown failure point {name!r}; known: {', '.join(FAIL_POINTS)}")
    if os.environ.get(FAIL_ENV) == name:
        raise InjectedFailure(f"injected failure at {name} ({FAIL_ENV}={name})")


def crash_point(name: str, *, with_children: bool = False) -> None:
    """SIGKILL this process at `name` when the environment asks for it. With `with_children`, every
    descendant (the dbt subprocess) is killed first, as when a container or machine goes away: a
    subprocess left running would go on writing the warehouse after its parent died."""
    if name not in POINTS:
        raise ValueError(f"unknown crash point {name!r}; known: {', '.join(POINTS)}")
    if os.environ.get(CRASH_ENV) == name:
        if with_children:
            for pid in _descendants(os.getpid()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        os.kill(os.getpid(), signal.SIGKILL)


def _descendants(root: int) -> list[int]:
    """Child processes of `root`, recursively, from /proc (Linux); deepest first."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name in parentheses may contain spaces: the parent pid follows its closing bracket.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(children)
        frontier = children
    return list(reversed(found))
