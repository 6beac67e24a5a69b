"""`orderhub simulate`: write a simulated day (or a live stream) of every channel's orders into a landing folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer


def simulate(
    out: Annotated[Path, typer.Option(help="landing folder to write into")] = Path("landing"),
    date: Annotated[
        str, typer.Option(help="business day, YYYY-MM-DD (default: today where the stores are, Asia/Shanghai)")
    ] = "",
    orders: Annotated[int, typer.Option(min=1, help="orders to simulate for the day")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 7,
    live: Annotated[bool, typer.Option(help="keep writing new files for the current day until Ctrl-C")] = False,
    rate: Annotated[
        float | None,
        typer.Option(min=0.01, help="orders per second in --live mode (default 5; with --target: as fast as acked)"),
    ] = None,
    duration: Annotated[float, typer.Option(help="stop --live after this many seconds (0 = never)")] = 0.0,
    target: Annotated[
        str, typer.Option(help="with --live: push a simulated day's orders to this gateway URL instead of writing")
    ] = "",
    secrets: Annotated[
        Path | None, typer.Option(help="with --target: channel credentials JSON (default: fresh ones, printed)")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="with --target: pushes in flight at once")] = 32,
    report: Annotated[Path | None, typer.Option(help="with --target: write the load report (JSON) here")] = None,
    deadline: Annotated[
        float, typer.Option(min=0.0, help="with --target: seconds a push is retried (503, no answer) before it fails")
    ] = 30.0,
) -> None:
    """Write a simulated day (or a live stream) of every channel's orders in their native formats."""
    import simulator

    if target and not live:
        raise typer.BadParameter("--target pushes a simulated day live: add --live", param_hint="--target")
    if live and target:
        failed = _push_day(target, _parse_date(date), orders, seed, secrets, concurrency, rate, report, deadline)
        raise typer.Exit(1 if failed else 0)
    if live:
        rate = rate or 5.0
        typer.echo(f"writing ~{rate} orders/s into {out} (Ctrl-C to stop)")
        try:
            simulator.run_live(out, rate=rate, seed=seed, duration_s=duration or None)
        except KeyboardInterrupt:
            typer.echo("stopped")
        return
    day = _parse_date(date)
    summary = simulator.simulate_day(day, orders=orders, seed=seed, out=out)
    # A line per channel, not the summary's repr: a day is thousands of file paths.
    typer.echo(
        f"simulated {summary.date}: {summary.orders:,} orders (seed {summary.seed}) in {summary.files:,} files "
        f"under {summary.out}"
    )
    for channel, counts in summary.records_by_channel.items():
        typer.echo(f"  {channel:<12} " + ", ".join(f"{n:,} {what}" for what, n in counts.items()))
    typer.echo(f"  ground truth: {summary.truth_path}")


def _push_day(target, day, orders, seed, secrets, concurrency, rate, report, deadline) -> int:
    """Simulate the day into a temporary landing folder and push its orders to the gateway; the failed count."""
    import asyncio
    import tempfile

    import simulator
    from simulator.live import CHANNEL_PATHS, load_credentials, push_all, wire_pushes, write_dev_credentials

    if not target.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{target!r} is not an http(s) URL", param_hint="--target")
    if secrets is None:
        secrets = Path(tempfile.gettempdir()) / f"orderhub-live-credentials-{seed}.json"
        write_dev_credentials(secrets)
        typer.echo(f"fresh credentials (give them to the gateway): {secrets}")
    try:
        credentials = load_credentials(secrets)
        credentials.check(CHANNEL_PATHS)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--secrets") from exc
    with tempfile.TemporaryDirectory(prefix="orderhub-live-") as tmp:
        landing = Path(tmp) / "landing"
        simulator.simulate_day(day, orders=orders, seed=seed, out=landing)
        unbuildable = []
        pushes = wire_pushes(landing, credentials, target, unbuildable=unbuildable)
        typer.echo(f"pushing {day}'s orders to {target} ({concurrency} at a time, rate {rate or 'unpaced'})")
        result = asyncio.run(push_all(pushes, target, concurrency, rate, deadline))
    result.unbuildable = [(u.channel, u.source, u.reason) for u in unbuildable]
    typer.echo(result.summary())
    for line in unbuildable:
        typer.echo(f"  not postable, not sent: {line.channel} {line.source}: {line.reason}")
    for channel, key, problem in result.failed[:20]:
        typer.echo(f"  failed: {channel} {key}: {problem}")
    if report is not None:
        report.write_bytes(result.to_json())
        typer.echo(f"report: {report}")
    return len(result.failed)


def _parse_date(text: str) -> dt.date:
    if not text:
        from zoneinfo import ZoneInfo

        from ingestion.contract import LOCAL_TIMEZONE

        return dt.datetime.now(ZoneInfo(LOCAL_TIMEZONE)).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date like 2026-11-26") from exc
