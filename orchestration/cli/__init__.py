"""The `orderhub` command line (console script `orderhub`, or `python -m orchestration.cli`).

One module per command group: simulate.py (`simulate`), run.py (`run`, `watch`, `summary`), serve.py (`serve`),
dispatch.py, dq.py, quarantine.py, recon.py (`recon`), gateway.py (`gateway`: the live intake), analytics.py
(`analytics`: the channel and customer questions on ClickHouse or the warehouse). A command that runs
the pipeline builds a Settings from its options and the environment and passes it down; nothing here writes
`os.environ`.
"""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="orderhub: multi-channel order aggregation.")


def _register_commands() -> None:
    from orchestration.cli.analytics import analytics_app
    from orchestration.cli.dispatch import dispatch_app
    from orchestration.cli.dq import dq_app
    from orchestration.cli.gateway import gateway_app
    from orchestration.cli.quarantine import quarantine_app
    from orchestration.cli.recon import recon_app
    from orchestration.cli.run import run, summary, watch
    from orchestration.cli.serve import serve
    from orchestration.cli.simulate import simulate

    app.add_typer(dispatch_app, name="dispatch")
    app.add_typer(recon_app, name="recon")
    app.add_typer(dq_app, name="dq")
    app.add_typer(gateway_app, name="gateway")
    app.add_typer(quarantine_app, name="quarantine")
    app.add_typer(analytics_app, name="analytics")
    for command in (simulate, run, watch, summary, serve):
        app.command()(command)


_register_commands()

__all__ = ["app"]
